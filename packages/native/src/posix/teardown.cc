// Per-environment state and its teardown. A worker_thread ends by closing
// its libuv loop, and Node aborts the process if a handle is still open
// then, so every poll handle must be closed *and* its close callback must
// have run first. An async cleanup hook (Node-API 8) is the tool for that:
// Node keeps running the loop until the hook says it is done.
#include <vector>

#include "state.h"
#include "watcher.h"

namespace procwire {

namespace {

void ReleaseAll(AddonState& state) {
  // Copied: Release() erases from the map.
  std::vector<FdWatcher*> watchers;
  watchers.reserve(state.watchers.size());
  for (auto& entry : state.watchers) watchers.push_back(entry.second);
  for (FdWatcher* watcher : watchers) watcher->Release();
}

void OnTeardown(napi_async_cleanup_hook_handle handle, void* data) {
  auto& state = *static_cast<AddonState*>(data);
  state.cleanupHook = nullptr;
  ReleaseAll(state);
  // Handles closed earlier may still be closing too; the last close
  // callback finishes the hook (FdWatcher::OnClosed).
  if (state.ledger->open == 0) {
    napi_remove_async_cleanup_hook(handle);
  } else {
    state.ledger->teardown = handle;
  }
}

}  // namespace

AddonState& CreateAddonState(Napi::Env env) {
  auto* state = new AddonState();
  env.SetInstanceData<AddonState>(state);  // deleted by Node with the environment
  napi_status status = napi_get_uv_event_loop(env, &state->loop);
  NAPI_THROW_IF_FAILED(env, status, *state);
  status = napi_add_async_cleanup_hook(env, OnTeardown, state, &state->cleanupHook);
  NAPI_THROW_IF_FAILED(env, status, *state);
  return *state;
}

AddonState::~AddonState() {
  // Normally the hook has run and nothing is left. If Node frees the state
  // first, close what remains (a released watcher never touches the state
  // again) and make sure the hook never sees this object.
  ReleaseAll(*this);
  if (cleanupHook != nullptr) napi_remove_async_cleanup_hook(cleanupHook);
}

void AddonState::ReleaseWatcherOn(int fd) {
  auto found = watchers.find(fd);
  if (found != watchers.end()) found->second->Release();
}

}  // namespace procwire
