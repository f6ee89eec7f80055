// The NSS lookup core (see nss.h).
#include "nss.h"

#include <grp.h>
#include <pwd.h>
#include <unistd.h>

#include <cerrno>

namespace authsock {

// MySQL, MariaDB and PostgreSQL pass a fixed 1024-byte buffer and fail on ERANGE (large LDAP or
// GECOS entries). Start from what sysconf suggests and grow instead, up to a bound.
static constexpr size_t kMaxNssBuffer = 1 << 20;

static size_t InitialBufferSize(int sysconfName) {
  long suggested = sysconf(sysconfName);
  return suggested > 0 ? static_cast<size_t>(suggested) : 1024;
}

int Lookup(const LookupRequest& req, LookupResult& out, const char** syscall) {
  bool user = IsUserLookup(req.kind);
  *syscall = req.kind == LookupKind::kUserById    ? "getpwuid_r"
             : req.kind == LookupKind::kUserByName ? "getpwnam_r"
             : req.kind == LookupKind::kGroupById  ? "getgrgid_r"
                                                   : "getgrnam_r";
  // A name with a NUL byte would be cut short by the C API and find someone else.
  if (req.name.find('\0') != std::string::npos) return 0;
  std::vector<char> buf(InitialBufferSize(user ? _SC_GETPW_R_SIZE_MAX : _SC_GETGR_R_SIZE_MAX));
  for (;;) {
    int err;
    if (user) {
      passwd pw{}, *found = nullptr;
      err = req.kind == LookupKind::kUserById
                ? getpwuid_r(req.id, &pw, buf.data(), buf.size(), &found)
                : getpwnam_r(req.name.c_str(), &pw, buf.data(), buf.size(), &found);
      if (err == 0 && found != nullptr) {
        out.found = true;
        out.name = pw.pw_name;
        out.id = pw.pw_uid;
        out.gid = pw.pw_gid;
        out.gecos = pw.pw_gecos != nullptr ? pw.pw_gecos : "";
        out.dir = pw.pw_dir != nullptr ? pw.pw_dir : "";
        out.shell = pw.pw_shell != nullptr ? pw.pw_shell : "";
      }
    } else {
      group gr{}, *found = nullptr;
      err = req.kind == LookupKind::kGroupById
                ? getgrgid_r(req.id, &gr, buf.data(), buf.size(), &found)
                : getgrnam_r(req.name.c_str(), &gr, buf.data(), buf.size(), &found);
      if (err == 0 && found != nullptr) {
        out.found = true;
        out.name = gr.gr_name;
        out.id = gr.gr_gid;
        for (char** member = gr.gr_mem; member != nullptr && *member != nullptr; member++) {
          out.members.emplace_back(*member);
        }
      }
    }
    if (err != ERANGE) {
      // glibc reports "no such entry" as 0 with a NULL result; ENOENT and ESRCH mean the same.
      return (err == ENOENT || err == ESRCH) ? 0 : err;
    }
    if (buf.size() * 2 > kMaxNssBuffer) return ERANGE;
    buf.resize(buf.size() * 2);
  }
}

}  // namespace authsock
