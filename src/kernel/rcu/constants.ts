// Guest-kernel constants the RCU code reads.
export { percpuFields, taskFields, PERCPU_SIZE, SchedReason } from "../../gen/layout.js";
/** preempt_count's hardirq unit (HARDIRQ_OFFSET in include/linux/preempt.h). */
export const HARDIRQ_OFFSET_VALUE = 0x10000;
