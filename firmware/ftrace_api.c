/* ftrace's interface to modules (include/linux/ftrace.h). The ops lives in the module's own
 * memory, which is not core kernel data, so ftrace treats it as dynamic (FTRACE_OPS_FL_DYNAMIC:
 * its own trampoline, freed only after the grace periods the release policy waits for). The
 * host does the work (src/kernel/ftrace): changing sites patches text with the INT3 protocol
 * under running vCPUs, so the calling task sleeps until it is done. Returns 0 or -errno.
 * Not traced, as kernel/trace/ is built without -pg. */
#include "kernel.h"

#define OPS_CALL(call, ops, a, b) host_job(HYPERCALL_FTRACE_OPS, MOD_OPS_CALL_##call, (long)(ops), (long)(a), (long)(b))

notrace int register_ftrace_function(struct ftrace_ops *ops)
{
	return (int)OPS_CALL(REGISTER, ops, 0, 0);
}
EXPORT_SYMBOL(register_ftrace_function);

/* Returns once the ops' trampoline has been released as the release policy says. */
notrace int unregister_ftrace_function(struct ftrace_ops *ops)
{
	return (int)OPS_CALL(UNREGISTER, ops, 0, 0);
}
EXPORT_SYMBOL(unregister_ftrace_function);

/* buf: set_ftrace_filter syntax (globs, `!glob`, `:mod:NAME`), len bytes; reset replaces the
 * filter, else the globs are added to it. */
notrace int ftrace_set_filter(struct ftrace_ops *ops, unsigned char *buf, int len, int reset)
{
	return (int)OPS_CALL(SET_FILTER, ops, buf, ((u64)(u32)len) | ((u64)!!reset << 32));
}
EXPORT_SYMBOL(ftrace_set_filter);

notrace int ftrace_set_notrace(struct ftrace_ops *ops, unsigned char *buf, int len, int reset)
{
	return (int)OPS_CALL(SET_NOTRACE, ops, buf, ((u64)(u32)len) | ((u64)!!reset << 32));
}
EXPORT_SYMBOL(ftrace_set_notrace);

notrace int ftrace_set_filter_ip(struct ftrace_ops *ops, unsigned long ip, int remove, int reset)
{
	return (int)OPS_CALL(SET_FILTER_IP, ops, ip, (!!remove) | (!!reset << 1));
}
EXPORT_SYMBOL(ftrace_set_filter_ip);

notrace void ftrace_free_filter(struct ftrace_ops *ops)
{
	OPS_CALL(FREE_FILTER, ops, 0, 0);
}
EXPORT_SYMBOL(ftrace_free_filter);

/* Direct calls (x86, since 6.3): sites the ops filters call `addr` (a trampoline of the
 * module's own) directly when no other ops traces them. */
notrace int register_ftrace_direct(struct ftrace_ops *ops, unsigned long addr)
{
	return (int)OPS_CALL(REGISTER_DIRECT, ops, addr, 0);
}
EXPORT_SYMBOL(register_ftrace_direct);

notrace int unregister_ftrace_direct(struct ftrace_ops *ops, unsigned long addr, int free_filters)
{
	return (int)OPS_CALL(UNREGISTER_DIRECT, ops, addr, free_filters);
}
EXPORT_SYMBOL(unregister_ftrace_direct);

notrace int modify_ftrace_direct(struct ftrace_ops *ops, unsigned long addr)
{
	return (int)OPS_CALL(MODIFY_DIRECT, ops, addr, 0);
}
EXPORT_SYMBOL(modify_ftrace_direct);
