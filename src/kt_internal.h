/* kt_internal.h: small helpers the library files share and the API does not show. */
#ifndef KT_INTERNAL_H
#define KT_INTERNAL_H

/*
 * isspace() of the C locale, whatever locale the program set: the kernel's and procps' notion
 * of white space when they parse sysctl values and lines.
 */
static inline int
kt_c_space(char c)
{
	return c == ' ' || c == '\t' || c == '\n' || c == '\v' || c == '\f' || c == '\r';
}

#endif
