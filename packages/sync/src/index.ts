export {
  openSemaphore,
  removeSemaphore,
  SEMAPHORE_RECOVERY_MS,
  type Semaphore,
  type SemaphoreOptions,
  type Permit,
  type AcquireOptions,
} from './semaphore.js';
