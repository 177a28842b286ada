#include "exports.h"

namespace procwire {

void InitFileLock(Napi::Env, Napi::Object) {}

}  // namespace procwire
