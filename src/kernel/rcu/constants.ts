// Guest-kernel constants the RCU code reads (all generated: tools/layout.mjs, tools/constants.mjs).
export { percpuFields, taskFields, PERCPU_SIZE, SchedReason, RcuSpecial, TrcSpecial } from "../../gen/layout.js";
/** preempt_count's hardirq unit (HARDIRQ_OFFSET in include/linux/preempt.h), by either name. */
export { HARDIRQ_OFFSET, HARDIRQ_OFFSET as HARDIRQ_OFFSET_VALUE } from "../../gen/constants.js";
