// FileSystem helpers that need no system call of their own (they are built on the virtual
// methods, so a FileSystemWrapper affects them too).

#include "platform/file.h"

#include <algorithm>
#include <string>

namespace glimmer::platform {

std::string_view BaseName(std::string_view path) {
  while (path.size() > 1 && path.back() == '/') path.remove_suffix(1);
  const size_t slash = path.rfind('/');
  if (slash == std::string_view::npos || path.size() == 1) return path;
  return path.substr(slash + 1);
}

std::string_view DirName(std::string_view path) {
  while (path.size() > 1 && path.back() == '/') path.remove_suffix(1);
  const size_t slash = path.rfind('/');
  if (slash == std::string_view::npos) return ".";
  if (slash == 0) return "/";
  path = path.substr(0, slash);
  while (path.size() > 1 && path.back() == '/') path.remove_suffix(1);  // "a//b"
  return path;
}

Status Annotate(std::string_view context, const Status& status) {
  if (status.ok()) return status;
  std::string message(context);
  message += ": ";
  message += status.message();
  return Status(status.code(), std::move(message));
}

bool FileSystem::Exists(const std::string& path) { return Stat(path).ok(); }

Status FileSystem::CreateDirs(const std::string& path, uint32_t permissions) {
  if (auto info = Stat(path); info.ok() && info->type == FileType::kDirectory) return OkStatus();
  Status last;
  for (size_t end = 1; end <= path.size(); ++end) {
    if (end != path.size() && path[end] != '/') continue;
    if (path[end - 1] == '/') continue;  // "a//b", or a trailing slash
    last = CreateDir(path.substr(0, end), permissions);
    if (!last.ok() && last.code() != StatusCode::kAlreadyExists) return last;
  }
  if (last.code() == StatusCode::kAlreadyExists) {
    ASSIGN_OR_RETURN(FileInfo info, Stat(path));
    if (info.type != FileType::kDirectory) {
      return AlreadyExistsError("mkdir " + std::string(BaseName(path)) +
                                ": exists and is not a directory");
    }
  }
  return OkStatus();
}

StatusOr<std::string> ReadFileToString(FileSystem& fs, const std::string& path, int64_t max_bytes) {
  ASSIGN_OR_RETURN(std::unique_ptr<SequentialFile> file, fs.NewSequentialFile(path));
  std::string out;
  constexpr size_t kChunk = 64 * 1024;
  for (;;) {
    const size_t old_size = out.size();
    out.resize(old_size + kChunk);
    auto bytes = std::as_writable_bytes(std::span(out).subspan(old_size));
    ASSIGN_OR_RETURN(size_t n, file->Read(bytes));
    out.resize(old_size + n);
    if (static_cast<int64_t>(out.size()) > max_bytes) {
      return ResourceExhaustedError("read " + std::string(BaseName(path)) + ": larger than " +
                                    std::to_string(max_bytes) + " bytes");
    }
    if (n < kChunk) return out;
  }
}

Status WriteFileAtomically(FileSystem& fs, const std::string& path, std::string_view contents,
                           uint32_t permissions) {
  const std::string tmp = path + ".tmp";
  (void)fs.RemoveFile(tmp);  // a leftover of a crash
  WritableFileOptions options;
  options.mode = OpenMode::kCreateExclusive;
  options.permissions = permissions;
  options.force_permissions = true;
  ASSIGN_OR_RETURN(std::unique_ptr<WritableFile> file, fs.NewWritableFile(tmp, options));
  Status st = file->Append(std::as_bytes(std::span(contents.data(), contents.size())));
  if (st.ok()) st = file->Sync();
  if (st.ok()) st = file->Close();
  if (st.ok()) st = fs.Rename(tmp, path, RenameMode::kReplace);
  if (!st.ok()) {
    file.reset();
    (void)fs.RemoveFile(tmp);
    return st;
  }
  return fs.SyncDir(std::string(DirName(path)));
}

}  // namespace glimmer::platform
