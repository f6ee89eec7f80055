// passwd / group lookups through NSS (getpwuid_r and friends): the core, plain C++ without
// Node-API (nss_binding.cc runs it sync and off the event loop). Mirrors the getpwuid_r call of
// MySQL's plugin/auth/auth_socket.cc, with a buffer that grows where MySQL's is fixed.
#pragma once
#include <cstdint>
#include <string>
#include <vector>

namespace authsock {

enum class LookupKind { kUserById, kUserByName, kGroupById, kGroupByName };

struct LookupRequest {
  LookupKind kind;
  uint32_t id = 0;
  std::string name;
};

// The fields copied out of NSS's buffer, so the result outlives it.
struct LookupResult {
  bool found = false;
  std::string name, gecos, dir, shell;
  uint32_t id = 0, gid = 0;
  std::vector<std::string> members;
};

inline bool IsUserLookup(LookupKind kind) {
  return kind == LookupKind::kUserById || kind == LookupKind::kUserByName;
}

// Calls the *_r function that fits the request with a buffer grown on ERANGE, and names it in
// `syscall`. Returns 0 (found or not) or the errno of a lookup that failed, which callers must
// treat as failure, not absence. Blocks on NSS (which may go to the network).
int Lookup(const LookupRequest& req, LookupResult& out, const char** syscall);

}  // namespace authsock
