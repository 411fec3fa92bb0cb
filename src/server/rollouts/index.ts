export {startAppReconciler, startDeviceReconciler, startRolloutController, startWaveController} from './controller.ts'
export {createRollout, createRolloutService, deleteRollout, listRolloutSummaries, reconcileApp, reconcileDevice, rolloutDetail, rolloutHistory, undoRollout, updateRollout} from './rollout-service.ts'
export type {RolloutDeps, RolloutInput, RolloutPatch, RolloutResult, RolloutService, TargetResult} from './rollout-service.ts'
