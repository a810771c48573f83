// Session::save(): the session file written aside and renamed into place, so that a failure never
// leaves a half-written file where a good one stood.
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

#include <fmt/format.h>

#include "rtmix/session.hpp"

namespace rtmix {

namespace {

/// Closes a descriptor and removes the file written aside, unless it was renamed into place.
class AsideFile {
public:
    AsideFile(std::filesystem::path path, int fd) : path_(std::move(path)), fd_(fd) {}
    ~AsideFile() {
        if (fd_ >= 0) ::close(fd_);
        if (!placed_) {
            std::error_code ec;
            std::filesystem::remove(path_, ec);
        }
    }
    AsideFile(const AsideFile&) = delete;
    AsideFile& operator=(const AsideFile&) = delete;

    /// Closes the descriptor; false (errno set) when the close reports a failed write.
    bool close() {
        const int result = ::close(fd_);
        fd_ = -1;
        return result == 0;
    }
    void placed() noexcept { placed_ = true; }

private:
    std::filesystem::path path_;
    int fd_ = -1;
    bool placed_ = false;
};

}  // namespace

void Session::save(const std::filesystem::path& file) const {
    const SourceLocation where{file.string(), 0, 0};
    auto fail = [&](const std::string& why) { throw SessionError(where, fmt::format("cannot save the session: {}", why)); };
    if (!file.has_filename()) fail("the path names a folder, not a file");
    std::filesystem::path folder = file.parent_path();
    if (folder.empty()) folder = ".";
    std::error_code ec;
    if (!std::filesystem::is_directory(folder, ec)) fail(fmt::format("the folder '{}' does not exist", folder.string()));
    if (std::filesystem::is_directory(file, ec)) fail("it is a folder");

    std::string text;
    try {
        text = to_toml(folder);
    } catch (const SessionError& e) {
        fail(e.message());
    }

    // A name of our own in the destination's folder, so that the rename stays on one file system.
    int fd = -1;
    std::filesystem::path temp;
    for (unsigned attempt = 0; fd < 0; ++attempt) {
        temp = folder / fmt::format(".{}.{}-{}.partial", file.filename().string(), ::getpid(), attempt);
        fd = ::open(temp.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0666);
        if (fd < 0 && (errno != EEXIST || attempt > 100))
            fail(fmt::format("cannot write in '{}': {}", folder.string(), std::strerror(errno)));
    }
    AsideFile aside(temp, fd);
    // A file saved over keeps its permissions.
    struct stat existing {};
    if (::stat(file.c_str(), &existing) == 0 && S_ISREG(existing.st_mode)) (void)::fchmod(fd, existing.st_mode & 07777);

    for (std::size_t done = 0; done < text.size();) {
        const ssize_t n = ::write(fd, text.data() + done, text.size() - done);
        if (n < 0 && errno == EINTR) continue;
        if (n <= 0) fail(fmt::format("cannot write '{}': {}", temp.string(), std::strerror(n < 0 ? errno : EIO)));
        done += static_cast<std::size_t>(n);
    }
    // On the disk before the rename: after a crash the destination holds the old file or the new.
    if (::fsync(fd) != 0 || !aside.close()) fail(fmt::format("cannot write '{}': {}", temp.string(), std::strerror(errno)));
    std::filesystem::rename(temp, file, ec);
    if (ec) fail(fmt::format("cannot rename '{}' to '{}': {}", temp.string(), file.string(), ec.message()));
    aside.placed();
    // Make the rename itself durable.
    const int dir = ::open(folder.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (dir >= 0) {
        (void)::fsync(dir);
        ::close(dir);
    }
}

}  // namespace rtmix
