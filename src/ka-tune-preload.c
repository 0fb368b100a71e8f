/* ka-tune-preload.c: the library ka-tune exec puts in LD_PRELOAD. Every TCP socket (IPv4 or
 * IPv6) the program connects, listens on or accepts gets SO_KEEPALIVE, with the values ka-tune
 * exec passed in the environment (KA_TUNE_TIME, _INTVL, _PROBES; a bad one is left out).
 * The program sees no difference: each wrapped call returns what the real one returned, with
 * its errno; a socket option the kernel refuses is let be; UDP, unix and every other socket are
 * only asked what they are. Around the real call happen system calls and atomic operations only:
 * nothing that could block or allocate, or be unsafe in a signal handler or a thread.
 *
 * Where the work is done, so that a connection costs one system call more, not six:
 * - socket() whose arguments make a TCP socket (AF_INET or AF_INET6, SOCK_STREAM, protocol 0 or
 *   IPPROTO_TCP: the kernel gives such a socket exactly these SO_DOMAIN, SO_TYPE and SO_PROTOCOL)
 *   gets keepalive at once, as a default: what the program sets on it later stays.
 * - connect(), listen(), accept() and accept4() deal with the sockets socket() did not make
 *   (inherited, passed over a unix socket, made before this library was loaded): keepalive on
 *   means the program chose, and nothing is done; off, the socket is asked its SO_DOMAIN,
 *   SO_TYPE and SO_PROTOCOL before anything is written.
 * - A descriptor dealt with is remembered, so that connect(), listen() and accept() on it, and
 *   on what its listener accepts (which inherits its keepalive), cost nothing; close(), dup2(),
 *   dup3(), close_range() and closefrom() forget the numbers they free. A descriptor freed some
 *   other way (the C library's own fclose(), a raw system call) stays remembered: a socket that
 *   then gets its number without socket() or accept() (received over a unix socket, dup()) is
 *   passed over. */
#include <dlfcn.h>
#include <errno.h>
#include <limits.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include "katune.h"
#include "kt_internal.h"

#define EXPORT	__attribute__((visibility("default")))

/* glibc declares the address arguments as transparent unions; other C libraries as pointers. */
#ifdef __CONST_SOCKADDR_ARG
#define KT_CSA	__CONST_SOCKADDR_ARG
#define KT_SA	__SOCKADDR_ARG
#else
#define KT_CSA	const struct sockaddr *
#define KT_SA	struct sockaddr *
#endif

/* close_range() and closefrom() came with glibc 2.34: wrapped where they exist. */
#if defined(__GLIBC__) && __GLIBC_PREREQ(2, 34)
#define HAVE_CLOSE_RANGE 1
#endif
#ifndef CLOSE_RANGE_CLOEXEC
#define CLOSE_RANGE_CLOEXEC	(1U << 2)
#endif

typedef int (*socket_fn)(int, int, int);
typedef int (*connect_fn)(int, KT_CSA, socklen_t);
typedef int (*listen_fn)(int, int);
typedef int (*accept_fn)(int, KT_SA, socklen_t *);
typedef int (*accept4_fn)(int, KT_SA, socklen_t *, int);
typedef int (*close_fn)(int);
typedef int (*dup2_fn)(int, int);
typedef int (*dup3_fn)(int, int, int);
typedef int (*close_range_fn)(unsigned int, unsigned int, int);
typedef void (*closefrom_fn)(int);

/* The next definitions of the wrapped functions: the C library's, or another preload's. */
enum {
	F_SOCKET, F_CONNECT, F_LISTEN, F_ACCEPT, F_ACCEPT4, F_CLOSE, F_DUP2, F_DUP3,
	F_CLOSE_RANGE, F_CLOSEFROM, NFUNCS
};
static const char *const func_names[NFUNCS] = {
	"socket", "connect", "listen", "accept", "accept4", "close", "dup2", "dup3",
	"close_range", "closefrom",
};
static void *funcs[NFUNCS];

/*
 * The descriptors dealt with: keepalive set or found on, or no TCP socket. A bit a descriptor
 * below TRACKED; those above are looked at every time. Relaxed atomics: a descriptor reaches
 * another thread through the program's own synchronisation, which orders the bit's store too.
 */
#define TRACKED		65536
#define WORD_BITS	(sizeof(unsigned long) * CHAR_BIT)
static unsigned long dealt[TRACKED / WORD_BITS];

static int
is_dealt(int fd)
{
	if (fd < 0 || fd >= TRACKED)
		return 0;
	return (__atomic_load_n(&dealt[fd / WORD_BITS], __ATOMIC_RELAXED) >> (fd % WORD_BITS)) & 1;
}

static void
mark(int fd, int on)
{
	unsigned long bit;

	if (fd < 0 || fd >= TRACKED)
		return;
	bit = 1UL << (fd % WORD_BITS);
	if (on)
		(void)__atomic_fetch_or(&dealt[fd / WORD_BITS], bit, __ATOMIC_RELAXED);
	else
		(void)__atomic_fetch_and(&dealt[fd / WORD_BITS], ~bit, __ATOMIC_RELAXED);
}

/* Forget descriptors first..last, about to be freed. */
static void
forget(unsigned int first, unsigned int last)
{
	if (last >= TRACKED)
		last = TRACKED - 1;
	for (unsigned int fd = first; fd <= last; fd++)
		mark((int)fd, 0);
}

/* The values to set, read from the environment before main(), then only read. */
static struct kt_values values;

/*
 * The next definition of function f. init() finds them all before main(); only a call made
 * earlier, from another library's constructor, looks one up here.
 */
static void *
next_func(int f)
{
	void *p = __atomic_load_n(&funcs[f], __ATOMIC_ACQUIRE);

	if (!p) {
		p = dlsym(RTLD_NEXT, func_names[f]);
		__atomic_store_n(&funcs[f], p, __ATOMIC_RELEASE);
	}
	return p;
}

/* Read the values and find the wrapped functions, before main(). */
__attribute__((constructor)) static void
init(void)
{
	kt_exec_env_values(&values);
	for (int f = 0; f < NFUNCS; f++)
		(void)next_func(f);
}

/*
 * Deal with fd, a descriptor socket() did not make: turn keepalive on if it is a TCP socket
 * whose keepalive is off, then remember it. Failures are let be; errno is kept.
 */
static void
deal(int fd)
{
	int saved = errno, family, on;

	if (is_dealt(fd))
		return;
	on = kt_ka_is_on(fd);
	if (on < 0)
		goto out;	/* no socket (EBADF, ENOTSOCK): the real call will say so */
	if (!on && kt_tcp_socket(fd, &family))
		(void)kt_ka_set(fd, &values, 1, NULL, NULL);
	mark(fd, 1);
out:
	errno = saved;
}

EXPORT int
socket(int domain, int type, int protocol)
{
	socket_fn real = (socket_fn)next_func(F_SOCKET);
	int fd, saved;

	if (!real) {
		errno = ENOSYS;
		return -1;
	}
	fd = real(domain, type, protocol);
	if (fd < 0)
		return fd;
	/* SOCK_NONBLOCK and SOCK_CLOEXEC share type; the type proper is in its low bits. */
	if ((domain == AF_INET || domain == AF_INET6) && (type & 0xf) == SOCK_STREAM &&
	    (protocol == 0 || protocol == IPPROTO_TCP)) {
		saved = errno;
		(void)kt_ka_set(fd, &values, 1, NULL, NULL);
		errno = saved;
	}
	mark(fd, 1);
	return fd;
}

/* Before the real call: a non-blocking connect() returns at once, and the flag then takes
 * effect when the connection is made (the kernel's tcp_finish_connect() arms the timer). */
EXPORT int
connect(int fd, KT_CSA addr, socklen_t len)
{
	connect_fn real = (connect_fn)next_func(F_CONNECT);

	if (!real) {
		errno = ENOSYS;
		return -1;
	}
	deal(fd);
	return real(fd, addr, len);
}

/* Connections accepted later inherit the listener's keepalive and values. */
EXPORT int
listen(int fd, int backlog)
{
	listen_fn real = (listen_fn)next_func(F_LISTEN);

	if (!real) {
		errno = ENOSYS;
		return -1;
	}
	deal(fd);
	return real(fd, backlog);
}

/* A socket just accepted inherits its listener's keepalive: dealt with if the listener is. */
static void
deal_accepted(int listener, int fd)
{
	if (is_dealt(listener))
		mark(fd, 1);
	else
		deal(fd);
}

EXPORT int
accept(int fd, KT_SA addr, socklen_t *len)
{
	accept_fn real = (accept_fn)next_func(F_ACCEPT);
	int s;

	if (!real) {
		errno = ENOSYS;
		return -1;
	}
	s = real(fd, addr, len);
	if (s >= 0)
		deal_accepted(fd, s);
	return s;
}

EXPORT int
accept4(int fd, KT_SA addr, socklen_t *len, int flags)
{
	accept4_fn real = (accept4_fn)next_func(F_ACCEPT4);
	int s;

	if (!real) {
		errno = ENOSYS;
		return -1;
	}
	s = real(fd, addr, len, flags);
	if (s >= 0)
		deal_accepted(fd, s);
	return s;
}

/* The number is forgotten before it is freed: no other thread can be given it in between. */
EXPORT int
close(int fd)
{
	close_fn real = (close_fn)next_func(F_CLOSE);

	if (!real) {
		errno = ENOSYS;
		return -1;
	}
	mark(fd, 0);
	return real(fd);
}

/* dup2() and dup3(): newfd is freed first, then names oldfd's socket, dealt with as it is. */
static int
duped(int oldfd, int newfd, int r)
{
	if (r >= 0 && oldfd != newfd && is_dealt(oldfd))
		mark(newfd, 1);
	return r;
}

EXPORT int
dup2(int oldfd, int newfd)
{
	dup2_fn real = (dup2_fn)next_func(F_DUP2);

	if (!real) {
		errno = ENOSYS;
		return -1;
	}
	if (oldfd != newfd)
		mark(newfd, 0);
	return duped(oldfd, newfd, real(oldfd, newfd));
}

EXPORT int
dup3(int oldfd, int newfd, int flags)
{
	dup3_fn real = (dup3_fn)next_func(F_DUP3);

	if (!real) {
		errno = ENOSYS;
		return -1;
	}
	if (oldfd != newfd)
		mark(newfd, 0);
	return duped(oldfd, newfd, real(oldfd, newfd, flags));
}

#ifdef HAVE_CLOSE_RANGE
EXPORT int
close_range(unsigned int first, unsigned int last, int flags)
{
	close_range_fn real = (close_range_fn)next_func(F_CLOSE_RANGE);

	if (!real) {
		errno = ENOSYS;
		return -1;
	}
	if (!(flags & CLOSE_RANGE_CLOEXEC) && first <= last)
		forget(first, last);
	return real(first, last, flags);
}

EXPORT void
closefrom(int lowfd)
{
	closefrom_fn real = (closefrom_fn)next_func(F_CLOSEFROM);

	forget(lowfd < 0 ? 0 : (unsigned int)lowfd, TRACKED - 1);
	if (real)
		real(lowfd);
}
#endif
