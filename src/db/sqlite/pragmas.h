#pragma once
// SQLite-only statements: connection pragmas and transaction control (the repositories' SQL is
// in db/sql/queries.h).

namespace glimmer::db::sqlite::pragmas {

inline constexpr char kJournalModeWal[] = "PRAGMA journal_mode = WAL";
inline constexpr char kGetUserVersion[] = "PRAGMA user_version";
inline constexpr char kSetUserVersionPrefix[] = "PRAGMA user_version = ";
inline constexpr char kOptimize[] = "PRAGMA optimize";
inline constexpr char kForeignKeysOn[] = "PRAGMA foreign_keys = ON";
inline constexpr char kSynchronousFull[] = "PRAGMA synchronous = FULL";
inline constexpr char kSynchronousNormal[] = "PRAGMA synchronous = NORMAL";
inline constexpr char kTempStoreMemory[] = "PRAGMA temp_store = MEMORY";
inline constexpr char kCacheSize[] = "PRAGMA cache_size = -16384";  // 16 MiB per connection
// Reads map pages instead of copying them with pread(); the file is never larger in practice.
inline constexpr char kMmapSize[] = "PRAGMA mmap_size = 1073741824";
inline constexpr char kBegin[] = "BEGIN";
inline constexpr char kBeginImmediate[] = "BEGIN IMMEDIATE";
inline constexpr char kCommit[] = "COMMIT";
inline constexpr char kRollback[] = "ROLLBACK";

}  // namespace glimmer::db::sqlite::pragmas
