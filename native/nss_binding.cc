#include "nss_binding.h"

#include <string>
#include <utility>

#include "errors.h"
#include "nss.h"

namespace authsock {

static Napi::Value ToJs(Napi::Env env, LookupKind kind, const LookupResult& r) {
  if (!r.found) return env.Null();
  Napi::Object obj = Napi::Object::New(env);
  obj.Set("name", r.name);
  // The name's exact bytes: what the auth_socket comparison uses, since a name that is not valid
  // UTF-8 would not survive the round trip through a JS string.
  obj.Set("rawName", Napi::Buffer<char>::Copy(env, r.name.data(), r.name.size()));
  if (IsUserLookup(kind)) {
    obj.Set("uid", r.id);
    obj.Set("gid", r.gid);
    obj.Set("gecos", r.gecos);
    obj.Set("dir", r.dir);
    obj.Set("shell", r.shell);
  } else {
    obj.Set("gid", r.id);
    Napi::Array members = Napi::Array::New(env, r.members.size());
    for (size_t i = 0; i < r.members.size(); i++) members.Set(i, r.members[i]);
    obj.Set("members", members);
  }
  return obj;
}

static LookupRequest RequestFrom(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  if (info.Length() < 2 || !info[0].IsNumber()) {
    throw Napi::TypeError::New(env, "lookup(kind, key): kind must be a number");
  }
  LookupRequest req;
  int32_t kind = info[0].As<Napi::Number>().Int32Value();
  if (kind < 0 || kind > 3) throw Napi::RangeError::New(env, "unknown lookup kind");
  req.kind = static_cast<LookupKind>(kind);
  bool byName = req.kind == LookupKind::kUserByName || req.kind == LookupKind::kGroupByName;
  if (byName) {
    if (!info[1].IsString()) throw Napi::TypeError::New(env, "name must be a string");
    req.name = info[1].As<Napi::String>().Utf8Value();
  } else {
    if (!info[1].IsNumber()) throw Napi::TypeError::New(env, "id must be a number");
    double id = info[1].As<Napi::Number>().DoubleValue();
    if (!(id >= 0 && id <= 4294967295.0) || id != static_cast<double>(static_cast<uint32_t>(id))) {
      throw Napi::RangeError::New(env, "id must be an integer from 0 to 4294967295");
    }
    req.id = static_cast<uint32_t>(id);
  }
  return req;
}

// lookupSync(kind, key) -> record | null. Blocks on NSS: for start-up and tools, not for servers.
static Napi::Value LookupSync(const Napi::CallbackInfo& info) {
  LookupRequest req = RequestFrom(info);
  LookupResult result;
  const char* syscall;
  if (int err = Lookup(req, result, &syscall)) throw ErrnoError(info.Env(), err, syscall);
  return ToJs(info.Env(), req.kind, result);
}

// One worker per request: NSS may block on the network (LDAP, sssd), so it runs on libuv's pool.
class LookupWorker : public Napi::AsyncWorker {
 public:
  LookupWorker(Napi::Env env, LookupRequest req)
      : Napi::AsyncWorker(env, "auth-socket:nss"), req_(std::move(req)), deferred_(env) {}

  Napi::Promise Promise() { return deferred_.Promise(); }

  void Execute() override { err_ = Lookup(req_, result_, &syscall_); }

  void OnOK() override {
    Napi::Env env = Env();
    if (err_ != 0) {
      deferred_.Reject(ErrnoError(env, err_, syscall_).Value());
    } else {
      deferred_.Resolve(ToJs(env, req_.kind, result_));
    }
  }

  void OnError(const Napi::Error& error) override { deferred_.Reject(error.Value()); }

 private:
  LookupRequest req_;
  LookupResult result_;
  int err_ = 0;
  const char* syscall_ = "";
  Napi::Promise::Deferred deferred_;
};

// lookup(kind, key) -> Promise<record | null>
static Napi::Value LookupAsync(const Napi::CallbackInfo& info) {
  auto* worker = new LookupWorker(info.Env(), RequestFrom(info));
  Napi::Promise promise = worker->Promise();
  worker->Queue();
  return promise;
}

void InitNss(Napi::Env env, Napi::Object exports) {
  exports.Set("lookup", Napi::Function::New(env, LookupAsync, "lookup"));
  exports.Set("lookupSync", Napi::Function::New(env, LookupSync, "lookupSync"));
}

}  // namespace authsock
