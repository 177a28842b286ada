export { ErrorCode, type CustomErrorCodes, type KnownErrorCode, type ErrorCodeString } from './codes.js';
export { ProcwireError, type ProcwireErrorOptions } from './ProcwireError.js';
