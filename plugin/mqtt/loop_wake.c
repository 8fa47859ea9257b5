/* Waking the broker's loop when the store's answer arrives (loop_wake.h). */
#include "mqtt/loop_wake.h"

#include <arpa/inet.h>
#include <dirent.h>
#include <errno.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

/* A listener that gives no CONNACK within this is not one to use (TLS, websockets, the
 * plugin's own HTTP listener). */
#define CONNACK_WAIT_MS 2000
/* After finding none: the next search. */
#define SEARCH_AGAIN_MS 30000
/* The most listening sockets looked at. */
#define MAX_LISTENERS 32

struct loop_wake {
	pthread_t thread;
	atomic_bool stop;
	atomic_ulong sent;
	loop_wake_watch_fn watch;
	void *ctx;
	loop_wake_log_fn log;
	int sock;               /* the thread's MQTT connection, -1 while none */
};

static int64_t now_ms(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

__attribute__((format(printf, 3, 4)))
static void say(struct loop_wake *w, bool err, const char *fmt, ...)
{
	char line[512];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(line, sizeof(line), fmt, ap);
	va_end(ap);
	if(w->log) w->log(err, line);
}

/* ---- finding a listener ---- */

struct listener {
	struct sockaddr_storage addr;
	socklen_t len;
	char text[64];
};

/* The socket inodes this process holds (its listeners among them). */
static size_t own_socket_inodes(unsigned long *out, size_t max)
{
	DIR *d = opendir("/proc/self/fd");
	if(!d) return 0;
	size_t n = 0;
	struct dirent *e;
	while(n < max && (e = readdir(d))){
		char path[64], target[64];
		snprintf(path, sizeof(path), "/proc/self/fd/%.20s", e->d_name);
		ssize_t len = readlink(path, target, sizeof(target) - 1);
		if(len <= 0) continue;
		target[len] = '\0';
		unsigned long inode;
		if(sscanf(target, "socket:[%lu]", &inode) == 1) out[n++] = inode;
	}
	closedir(d);
	return n;
}

static bool owned(unsigned long inode, const unsigned long *inodes, size_t n)
{
	for(size_t i = 0; i < n; i++){
		if(inodes[i] == inode) return true;
	}
	return false;
}

/* The process's listening TCP sockets from /proc/self/net/tcp or tcp6, as addresses to
 * connect to (a wildcard address becomes loopback). */
static size_t read_listeners(const char *file, bool v6, const unsigned long *inodes, size_t ninodes,
		struct listener *out, size_t n, size_t max)
{
	FILE *f = fopen(file, "r");
	if(!f) return n;
	char line[512];
	if(!fgets(line, sizeof(line), f)){ /* the header */
		fclose(f);
		return n;
	}
	while(n < max && fgets(line, sizeof(line), f)){
		char local[64], remote[64];
		unsigned state;
		unsigned long inode;
		if(sscanf(line, " %*d: %63s %63s %x %*s %*s %*s %*u %*u %lu", local, remote, &state, &inode) != 4) continue;
		if(state != 0x0A || !owned(inode, inodes, ninodes)) continue; /* 0A: LISTEN */
		char *colon = strchr(local, ':');
		if(!colon) continue;
		unsigned port = (unsigned)strtoul(colon + 1, NULL, 16);
		*colon = '\0';
		struct listener *l = &out[n];
		memset(l, 0, sizeof(*l));
		if(!v6){
			struct sockaddr_in *a = (struct sockaddr_in *)&l->addr;
			a->sin_family = AF_INET;
			a->sin_port = htons((uint16_t)port);
			a->sin_addr.s_addr = (in_addr_t)strtoul(local, NULL, 16); /* as the kernel stores it */
			if(a->sin_addr.s_addr == htonl(INADDR_ANY)) a->sin_addr.s_addr = htonl(INADDR_LOOPBACK);
			l->len = sizeof(*a);
			char ip[INET_ADDRSTRLEN] = "";
			inet_ntop(AF_INET, &a->sin_addr, ip, sizeof(ip));
			snprintf(l->text, sizeof(l->text), "%s:%u", ip, port);
		}else{
			struct sockaddr_in6 *a = (struct sockaddr_in6 *)&l->addr;
			a->sin6_family = AF_INET6;
			a->sin6_port = htons((uint16_t)port);
			if(strlen(local) != 32) continue;
			for(int word = 0; word < 4; word++){
				char hex[9];
				memcpy(hex, local + 8 * word, 8);
				hex[8] = '\0';
				uint32_t v = (uint32_t)strtoul(hex, NULL, 16); /* host order words, as the kernel prints them */
				memcpy(&a->sin6_addr.s6_addr[4 * word], &v, 4);
			}
			if(IN6_IS_ADDR_UNSPECIFIED(&a->sin6_addr)) a->sin6_addr = in6addr_loopback;
			l->len = sizeof(*a);
			char ip[INET6_ADDRSTRLEN] = "";
			inet_ntop(AF_INET6, &a->sin6_addr, ip, sizeof(ip));
			snprintf(l->text, sizeof(l->text), "[%s]:%u", ip, port);
		}
		n++;
	}
	fclose(f);
	return n;
}

/* Reads exactly n bytes within the time left; false otherwise. */
static bool read_within(int fd, unsigned char *buf, size_t n, int64_t deadline)
{
	size_t got = 0;
	while(got < n){
		int left = (int)(deadline - now_ms());
		if(left <= 0) return false;
		struct pollfd p = { .fd = fd, .events = POLLIN };
		if(poll(&p, 1, left) <= 0) return false;
		ssize_t r = recv(fd, buf + got, n - got, 0);
		if(r <= 0) return false;
		got += (size_t)r;
	}
	return true;
}

/* An MQTT 3.1.1 CONNECT (clean session, no keepalive, no credentials) and its CONNACK:
 * the connection, or -1. */
static int try_listener(const struct listener *l, const char *client_id)
{
	int fd = socket(l->addr.ss_family, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if(fd < 0) return -1;
	int one = 1;
	setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
	if(connect(fd, (const struct sockaddr *)&l->addr, l->len) != 0){
		close(fd);
		return -1;
	}
	unsigned char pkt[128];
	size_t id_len = strlen(client_id);
	size_t rest = 10 + 2 + id_len;
	if(rest > 127){
		close(fd);
		return -1;
	}
	size_t k = 0;
	pkt[k++] = 0x10;
	pkt[k++] = (unsigned char)rest;
	static const unsigned char head[] = { 0, 4, 'M', 'Q', 'T', 'T', 4, 0x02, 0, 0 };
	memcpy(pkt + k, head, sizeof(head));
	k += sizeof(head);
	pkt[k++] = (unsigned char)(id_len >> 8);
	pkt[k++] = (unsigned char)id_len;
	memcpy(pkt + k, client_id, id_len);
	k += id_len;
	unsigned char ack[4];
	if(send(fd, pkt, k, MSG_NOSIGNAL) != (ssize_t)k || !read_within(fd, ack, sizeof(ack), now_ms() + CONNACK_WAIT_MS)
			|| ack[0] != 0x20 || ack[1] != 0x02 || ack[3] != 0){
		close(fd);
		return -1;
	}
	return fd;
}

static int find_listener(struct loop_wake *w, char *used, size_t used_size)
{
	unsigned long inodes[1024];
	size_t ninodes = own_socket_inodes(inodes, sizeof(inodes) / sizeof(*inodes));
	struct listener ls[MAX_LISTENERS];
	size_t n = read_listeners("/proc/self/net/tcp", false, inodes, ninodes, ls, 0, MAX_LISTENERS);
	n = read_listeners("/proc/self/net/tcp6", true, inodes, ninodes, ls, n, MAX_LISTENERS);
	char id[64];
	snprintf(id, sizeof(id), "mosquitto-jobs-wake-%d", (int)getpid());
	for(size_t i = 0; i < n && !atomic_load(&w->stop); i++){
		int fd = try_listener(&ls[i], id);
		if(fd >= 0){
			snprintf(used, used_size, "%s", ls[i].text);
			return fd;
		}
	}
	return -1;
}

/* ---- the thread ---- */

/* Reads what the broker sent (PINGRESPs); false when the connection is gone. */
static bool drain(int sock)
{
	unsigned char buf[256];
	for(;;){
		ssize_t r = recv(sock, buf, sizeof(buf), MSG_DONTWAIT);
		if(r > 0) continue;
		return r < 0 && (errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR);
	}
}

static void pause_ms(int ms)
{
	struct timespec ts = { ms / 1000, (long)(ms % 1000) * 1000000L };
	nanosleep(&ts, NULL);
}

static void *run(void *arg)
{
	struct loop_wake *w = arg;
	int64_t search_at = 0;
	bool said_none = false;
	while(!atomic_load(&w->stop)){
		if(w->sock < 0){
			if(now_ms() < search_at){
				pause_ms(100);
				continue;
			}
			char used[64];
			w->sock = find_listener(w, used, sizeof(used));
			if(w->sock < 0){
				if(!said_none){
					say(w, true, "jobs: no listener of this broker took an anonymous MQTT connection from the plugin:"
							" replies that wait for PostgreSQL go out at the broker's next pass (within 100 ms)"
							" instead of at once");
					said_none = true;
				}
				search_at = now_ms() + SEARCH_AGAIN_MS;
			}else{
				say(w, false, "jobs: waking the broker's loop for PostgreSQL's answers through listener %s", used);
				said_none = false;
			}
			continue;
		}
		int fd;
		unsigned reads;
		w->watch(w->ctx, &fd, &reads);
		struct pollfd p[2] = { { .fd = w->sock, .events = POLLIN }, { .fd = fd, .events = POLLIN } };
		if(poll(p, fd >= 0 ? 2 : 1, 100) < 0) continue;
		if((p[0].revents & (POLLIN | POLLHUP | POLLERR)) && !drain(w->sock)){
			close(w->sock);
			w->sock = -1;
			continue;
		}
		if(fd < 0 || !(p[1].revents & (POLLIN | POLLHUP | POLLERR))) continue;
		static const unsigned char pingreq[] = { 0xC0, 0x00 };
		if(send(w->sock, pingreq, sizeof(pingreq), MSG_NOSIGNAL) != (ssize_t)sizeof(pingreq)){
			close(w->sock);
			w->sock = -1;
			continue;
		}
		atomic_fetch_add(&w->sent, 1);
		/* one wake-up per readable moment: wait until the broker's thread has read */
		for(int i = 0; i < 100 && !atomic_load(&w->stop); i++){
			int fd2;
			unsigned reads2;
			w->watch(w->ctx, &fd2, &reads2);
			if(reads2 != reads || fd2 != fd) break;
			pause_ms(1);
		}
	}
	if(w->sock >= 0) close(w->sock);
	w->sock = -1;
	return NULL;
}

struct loop_wake *loop_wake_start(loop_wake_watch_fn watch, void *ctx, loop_wake_log_fn log)
{
	struct loop_wake *w = calloc(1, sizeof(*w));
	if(!w) return NULL;
	w->watch = watch;
	w->ctx = ctx;
	w->log = log;
	w->sock = -1;
	atomic_init(&w->stop, false);
	atomic_init(&w->sent, 0);
	if(pthread_create(&w->thread, NULL, run, w) != 0){
		free(w);
		return NULL;
	}
	return w;
}

void loop_wake_stop(struct loop_wake *w)
{
	if(!w) return;
	atomic_store(&w->stop, true);
	pthread_join(w->thread, NULL);
	free(w);
}

unsigned long loop_wake_count(const struct loop_wake *w)
{
	return w ? atomic_load(&((struct loop_wake *)w)->sent) : 0;
}
