#include "db/postgres/connection.h"

#include <libpq-fe.h>

#include <charconv>
#include <cstring>
#include <string>
#include <utility>

namespace glimmer::db::postgres {
namespace {

// Type OIDs of pg_type (stable across PostgreSQL versions).
constexpr Oid kInt8Oid = 20;
constexpr Oid kInt2Oid = 21;
constexpr Oid kInt4Oid = 23;
constexpr Oid kTextOid = 25;

// "a""b" quoting of an identifier.
std::string QuoteIdentifier(std::string_view name) {
  std::string out = "\"";
  for (char c : name) {
    if (c == '"') out += '"';
    out += c;
  }
  out += '"';
  return out;
}

// Maps a SQLSTATE (PostgreSQL error code) to a Status code.
StatusCode CodeFor(std::string_view sqlstate) {
  if (sqlstate == "23505") return StatusCode::kAlreadyExists;   // unique_violation
  if (sqlstate == "23503") return StatusCode::kNotFound;        // foreign_key_violation
  if (sqlstate == "40001" || sqlstate == "40P01") return StatusCode::kAborted;
  if (sqlstate.starts_with("08") || sqlstate.starts_with("57") || sqlstate.starts_with("53")) {
    return StatusCode::kUnavailable;  // connection, operator intervention, resources
  }
  if (sqlstate.starts_with("22")) return StatusCode::kInvalidArgument;  // data exception
  return StatusCode::kInternal;
}

}  // namespace

std::string RewritePlaceholders(std::string_view sql, std::vector<bool>& referenced) {
  std::string out;
  out.reserve(sql.size() + 16);
  int next = 1;
  auto mark = [&](int n) {
    if (referenced.size() < static_cast<size_t>(n)) referenced.resize(static_cast<size_t>(n));
    referenced[static_cast<size_t>(n) - 1] = true;
  };
  char quote = 0;
  for (size_t i = 0; i < sql.size(); ++i) {
    const char c = sql[i];
    if (quote != 0) {
      out += c;
      if (c == quote) quote = 0;  // a doubled quote re-enters the literal at the next char
      continue;
    }
    if (c == '\'' || c == '"') {
      quote = c;
      out += c;
      continue;
    }
    if (c != '?') {
      out += c;
      continue;
    }
    size_t j = i + 1;
    int n = 0;
    while (j < sql.size() && sql[j] >= '0' && sql[j] <= '9') n = n * 10 + (sql[j++] - '0');
    if (j == i + 1) n = next;  // bare `?`: the next number, as SQLite numbers them
    next = std::max(next, n + 1);
    mark(n);
    out += '$';
    out += std::to_string(n);
    i = j - 1;
  }
  return out;
}

// ---------------------------------------------------------------------------- PgStatement

PgStatement::PgStatement(PgConnection& conn, std::string_view portable_sql, bool prepare)
    : conn_(conn), sql_(RewritePlaceholders(portable_sql, referenced_)), prepare_(prepare) {
  values_.resize(referenced_.size());
  types_.assign(referenced_.size(), Type::kUnknown);
}

PgStatement::~PgStatement() { ClearResult(); }

void PgStatement::ClearResult() {
  if (result_ != nullptr) PQclear(result_);
  result_ = nullptr;
  rows_ = 0;
  row_ = -1;
  executed_ = false;
}

void PgStatement::BindText(int index, std::string_view text, bool /*copy*/) {
  if (index < 1 || static_cast<size_t>(index) > values_.size()) return;
  values_[index - 1] = std::string(text);
  types_[index - 1] = Type::kText;
}
void PgStatement::BindInt(int index, int64_t value) {
  if (index < 1 || static_cast<size_t>(index) > values_.size()) return;
  values_[index - 1] = std::to_string(value);
  types_[index - 1] = Type::kInt;
}
void PgStatement::BindNull(int index) {
  if (index < 1 || static_cast<size_t>(index) > values_.size()) return;
  values_[index - 1].reset();
  types_[index - 1] = Type::kUnknown;
}

Status PgStatement::Execute() {
  const int n = static_cast<int>(values_.size());
  std::vector<Oid> oids(values_.size());
  std::vector<const char*> values(values_.size());
  std::string signature(values_.size(), '?');
  for (size_t i = 0; i < values_.size(); ++i) {
    values[i] = values_[i] ? values_[i]->c_str() : nullptr;
    Type t = types_[i];
    // A parameter the text never uses must still have a type; NULLs in use take the
    // context's type.
    if (t == Type::kUnknown && !referenced_[i]) t = Type::kText;
    signature[i] = static_cast<char>(t);
    oids[i] = t == Type::kInt ? kInt8Oid : t == Type::kText ? kTextOid : 0;
  }
  PGresult* res = nullptr;
  if (prepare_) {
    auto it = prepared_.find(signature);
    if (it == prepared_.end()) {
      std::string name = conn_.NextStatementName();
      PGresult* prep = PQprepare(conn_.conn_, name.c_str(), sql_.c_str(), n, oids.data());
      if (prep == nullptr || PQresultStatus(prep) != PGRES_COMMAND_OK) {
        Status st = conn_.ResultError(prep, "postgres prepare");
        if (prep != nullptr) PQclear(prep);
        return st;
      }
      PQclear(prep);
      it = prepared_.emplace(signature, std::move(name)).first;
    }
    res = PQexecPrepared(conn_.conn_, it->second.c_str(), n, values.data(), nullptr, nullptr, 0);
  } else {
    res = PQexecParams(conn_.conn_, sql_.c_str(), n, oids.data(), values.data(), nullptr,
                       nullptr, 0);
  }
  const ExecStatusType status = res != nullptr ? PQresultStatus(res) : PGRES_FATAL_ERROR;
  if (status != PGRES_TUPLES_OK && status != PGRES_COMMAND_OK) {
    Status st = conn_.ResultError(res, "postgres");
    if (res != nullptr) PQclear(res);
    return st;
  }
  result_ = res;
  rows_ = status == PGRES_TUPLES_OK ? PQntuples(res) : 0;
  const char* tuples = PQcmdTuples(res);
  conn_.changes_ = (tuples != nullptr && *tuples != '\0') ? std::atoll(tuples) : 0;
  executed_ = true;
  return OkStatus();
}

StatusOr<bool> PgStatement::Step() {
  if (!executed_) RETURN_IF_ERROR(Execute());
  if (row_ + 1 >= rows_) {
    row_ = rows_;
    return false;
  }
  ++row_;
  return true;
}

void PgStatement::Reset() { ClearResult(); }

void PgStatement::Release() {
  ClearResult();
  for (auto& v : values_) v.reset();
  types_.assign(types_.size(), Type::kUnknown);
}

bool PgStatement::IsNull(int col) const { return PQgetisnull(result_, row_, col) != 0; }

bool PgStatement::IsInteger(int col) const {
  if (IsNull(col)) return false;
  const Oid t = PQftype(result_, col);
  return t == kInt8Oid || t == kInt4Oid || t == kInt2Oid;
}

int64_t PgStatement::Int(int col) const {
  if (IsNull(col)) return 0;
  const char* p = PQgetvalue(result_, row_, col);
  const char* end = p + PQgetlength(result_, row_, col);
  int64_t v = 0;
  std::from_chars(p, end, v);  // numeric sums ("123") parse the same way
  return v;
}

std::string_view PgStatement::TextView(int col) const {
  if (IsNull(col)) return {};
  return std::string_view(PQgetvalue(result_, row_, col),
                          static_cast<size_t>(PQgetlength(result_, row_, col)));
}

// ---------------------------------------------------------------------------- PgConnection

StatusOr<std::unique_ptr<PgConnection>> PgConnection::Open(const std::string& dsn,
                                                           const std::string& schema,
                                                           bool create_schema) {
  PGconn* raw = PQconnectdb(dsn.c_str());
  if (raw == nullptr) return UnavailableError("postgres: out of memory connecting");
  std::unique_ptr<PgConnection> conn(new PgConnection(raw));
  if (PQstatus(raw) != CONNECTION_OK) {
    std::string msg = PQerrorMessage(raw);
    while (!msg.empty() && (msg.back() == '\n' || msg.back() == ' ')) msg.pop_back();
    return UnavailableError("postgres: cannot connect: " + msg);
  }
  RETURN_IF_ERROR(conn->Exec("SET client_encoding = 'UTF8'"));
  RETURN_IF_ERROR(conn->Exec("SET client_min_messages = error"));
  if (!schema.empty()) {
    const std::string quoted = QuoteIdentifier(schema);
    if (create_schema) {
      RETURN_IF_ERROR(conn->Exec(("CREATE SCHEMA IF NOT EXISTS " + quoted).c_str()));
    }
    RETURN_IF_ERROR(conn->Exec(("SET search_path TO " + quoted).c_str()));
  }
  return conn;
}

PgConnection::~PgConnection() {
  cache_.clear();
  PQfinish(conn_);
}

bool PgConnection::healthy() const { return PQstatus(conn_) == CONNECTION_OK; }

Status PgConnection::ResultError(pg_result* result, std::string_view what) {
  std::string msg(what);
  msg += ": ";
  if (result == nullptr) {
    msg += PQerrorMessage(conn_);
    while (!msg.empty() && (msg.back() == '\n' || msg.back() == ' ')) msg.pop_back();
    return UnavailableError(std::move(msg));
  }
  const char* state = PQresultErrorField(result, PG_DIAG_SQLSTATE);
  const char* primary = PQresultErrorField(result, PG_DIAG_MESSAGE_PRIMARY);
  msg += primary != nullptr ? primary : PQresultErrorMessage(result);
  const std::string_view sqlstate = state != nullptr ? state : "";
  if (!sqlstate.empty()) {
    msg += " (SQLSTATE ";
    msg += sqlstate;
    msg += ")";
  }
  retryable_ = sqlstate == "40001" || sqlstate == "40P01";
  if (!healthy()) return UnavailableError(std::move(msg));
  return Status(sqlstate.empty() ? StatusCode::kInternal : CodeFor(sqlstate), std::move(msg));
}

StatusOr<sql::Statement> PgConnection::Prepare(std::string_view sql) {
  auto it = cache_.find(sql);
  if (it != cache_.end()) return sql::Statement(it->second.get(), nullptr);
  if (cache_.size() >= kMaxCachedStatements) {
    auto impl = std::make_unique<PgStatement>(*this, sql, /*prepare=*/false);
    PgStatement* raw = impl.get();
    return sql::Statement(raw, std::move(impl));
  }
  auto impl = std::make_unique<PgStatement>(*this, sql, /*prepare=*/true);
  PgStatement* raw = impl.get();
  cache_.emplace(std::string(sql), std::move(impl));
  return sql::Statement(raw, nullptr);
}

Status PgConnection::Exec(const char* sql) {
  PGresult* res = PQexec(conn_, sql);
  const ExecStatusType status = res != nullptr ? PQresultStatus(res) : PGRES_FATAL_ERROR;
  if (status == PGRES_COMMAND_OK || status == PGRES_TUPLES_OK) {
    PQclear(res);
    return OkStatus();
  }
  Status st = ResultError(res, "postgres exec");
  if (res != nullptr) PQclear(res);
  return st;
}

}  // namespace glimmer::db::postgres
