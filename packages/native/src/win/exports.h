// Each Windows source file adds its own functions to the addon's exports.
#pragma once

#include <napi.h>

namespace procwire {

void InitBellWatcher(Napi::Env env, Napi::Object exports);
void InitConstants(Napi::Env env, Napi::Object exports);
void InitMailslotReader(Napi::Env env, Napi::Object exports);
void InitMailslotWriter(Napi::Env env, Napi::Object exports);
void InitPipeListener(Napi::Env env, Napi::Object exports);
void InitShmChannel(Napi::Env env, Napi::Object exports);
void InitSecurity(Napi::Env env, Napi::Object exports);
void InitSystem(Napi::Env env, Napi::Object exports);

}  // namespace procwire
