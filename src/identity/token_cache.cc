#include "identity/token_cache.h"

#include <algorithm>

namespace glimmer::identity {

TokenCache::TokenCache(size_t capacity, UnixMicros max_age)
    : capacity_(std::max<size_t>(capacity, 1)), max_age_(max_age) {}

std::optional<domain::RequestContext> TokenCache::Lookup(std::string_view digest,
                                                         UnixMicros now) {
  std::lock_guard lock(mu_);
  auto it = entries_.find(std::string(digest));
  if (it == entries_.end()) return std::nullopt;
  if (now >= it->second.valid_until) {
    lru_.erase(it->second.lru_pos);
    entries_.erase(it);
    return std::nullopt;
  }
  lru_.splice(lru_.begin(), lru_, it->second.lru_pos);
  return it->second.context;
}

uint64_t TokenCache::generation() const {
  std::lock_guard lock(mu_);
  return generation_;
}

void TokenCache::Insert(std::string digest, domain::RequestContext context, UnixMicros now,
                        UnixMicros token_expires_at, uint64_t generation) {
  UnixMicros valid_until = std::min(now + max_age_, token_expires_at);
  if (valid_until <= now) return;
  std::lock_guard lock(mu_);
  if (generation != generation_) return;  // a revocation ran since the token was loaded
  if (auto it = entries_.find(digest); it != entries_.end()) {
    it->second.context = std::move(context);
    it->second.valid_until = valid_until;
    lru_.splice(lru_.begin(), lru_, it->second.lru_pos);
    return;
  }
  while (entries_.size() >= capacity_) {
    entries_.erase(lru_.back());
    lru_.pop_back();
  }
  lru_.push_front(digest);
  entries_.emplace(std::move(digest), Entry{std::move(context), valid_until, lru_.begin()});
}

void TokenCache::Erase(std::string_view digest) {
  std::lock_guard lock(mu_);
  ++generation_;
  auto it = entries_.find(std::string(digest));
  if (it == entries_.end()) return;
  lru_.erase(it->second.lru_pos);
  entries_.erase(it);
}

void TokenCache::Clear() {
  std::lock_guard lock(mu_);
  ++generation_;
  entries_.clear();
  lru_.clear();
}

size_t TokenCache::size() const {
  std::lock_guard lock(mu_);
  return entries_.size();
}

}  // namespace glimmer::identity
