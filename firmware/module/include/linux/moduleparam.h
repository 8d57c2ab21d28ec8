/* module_param(): a variable insmod may set with NAME=VALUE. Each becomes a struct kernel_param
 * in __param, which the loader reads; the types are int, uint, ulong, bool and charp. */
#ifndef _LINUX_MODULEPARAM_H
#define _LINUX_MODULEPARAM_H
#include <linux/compiler.h>
#include <linux/types.h>
#include <linux/stringify.h>
#include <gen/constants.h>

struct kernel_param {
	const char *name;
	void *arg;
	unsigned int type;
	unsigned short perm;
};

#define __MODULE_INFO(tag, name, info)						\
	static const char __UNIQUE_ID(name)[] __used __section(".modinfo") __aligned(1) = __stringify(tag) "=" info
#define MODULE_INFO(tag, info) __MODULE_INFO(tag, tag, info)
#define MODULE_PARM_DESC(_parm, desc) __MODULE_INFO(parm, _parm, #_parm ":" desc)

#define __param_ctype_int int
#define __param_ctype_uint unsigned int
#define __param_ctype_ulong unsigned long
#define __param_ctype_bool bool
#define __param_ctype_charp char *
#define __param_type_int PARAM_TYPE_INT
#define __param_type_uint PARAM_TYPE_UINT
#define __param_type_ulong PARAM_TYPE_ULONG
#define __param_type_bool PARAM_TYPE_BOOL
#define __param_type_charp PARAM_TYPE_CHARP

/* The variable's type must match the parameter type (a compile-time check). */
#define module_param_named(name, value, type, perm)				\
	static inline __param_ctype_##type *__check_##name(void) { return &(value); }	\
	static const char __param_str_##name[] = #name;				\
	static const struct kernel_param __param_##name				\
		__used __section("__param") __aligned(8) =			\
		{ __param_str_##name, &(value), __param_type_##type, perm };	\
	__MODULE_INFO(parmtype, name##type, #name ":" #type)
#define module_param(name, type, perm) module_param_named(name, name, type, perm)

#endif
