/* bench_jobs: what a round trip through the jobs plugin costs, next to the broker's
 * own ceiling, measured over MQTT with libmosquitto.
 *
 *   bench_jobs --scenario loop|update|cycle|get-pending|describe|fanout|slow-consumers|notify [options]
 *
 * By default it starts its own mosquitto (--mosquitto PATH) on a free 127.0.0.1 port
 * with a generated configuration and the plugin (--plugin PATH), its database in a
 * fresh folder (--db DIR, else a temporary one); --host/--port use a running broker
 * instead (--broker-pid PID then gives its CPU and memory figures).
 *
 * N clients (--clients, default 100) each keep K requests in flight (--inflight,
 * default 1): slot k of client c plays one thing, so a connection of K slots stands
 * for K devices behind one gateway (the plugin answers the publishing client id,
 * whatever the thing). Every request carries its slot in its clientToken (loop: in
 * its payload), so replies are matched to their slot, not by arrival order.
 *
 *   loop         each client publishes a 200-byte payload (--payload) on a topic of its
 *                own that it subscribes to, and waits for it: one message in, one out,
 *                no plugin work. The broker's ceiling.
 *   update       UpdateJobExecution IN_PROGRESS with statusDetails on an IN_PROGRESS
 *                execution; waits for update/accepted.
 *   cycle        start-next -> update IN_PROGRESS -> update SUCCEEDED per job, over
 *                many QUEUED jobs per thing (three round trips a cycle).
 *   get-pending  GetPendingJobExecutions of a thing with 10 pending executions.
 *   describe     DescribeJobExecution (with the job document) of one execution.
 *   fanout       --clients (default 10) run `loop` while an operator creates one job
 *                for --fanout N things (a thing group, or --fanout-via list); reports
 *                the worst and p99 round trip of those clients during the fan-out, when
 *                createJob was answered, and when all N executions were queued: the
 *                operator (granted that one thing) watches the notify-next of the thing
 *                reached last, then checks the count with describeJob (polled instead
 *                when it may not subscribe).
 *   slow-consumers  --devices N (5000) things of one group connect as plain sockets,
 *                subscribe to their notify and notify-next at QoS 1 and are never read
 *                again (--offline: disconnect, leaving persistent sessions); the
 *                operator creates --job-count M (150) jobs for the group, each once the
 *                previous one reached every device and at most one per --interval
 *                seconds (1); reports the broker's RSS before and after each job.
 *                --broker-conf FILE adds lines (queue limits) to the broker's
 *                configuration.
 *   notify       the operator, on the first broker, creates --job-count M (200) jobs one
 *                at a time, each for the things nfy-a (a device on the first broker) and,
 *                with --brokers 2, nfy-b (a device on the second), a random 0 to
 *                --interval seconds (0.1) after the previous one reached them (it is then
 *                cancelled); reports how long each job took from the createJob request to
 *                the device's notify-next, and to createJob's answer. --clients N (0)
 *                loop clients, spread over the brokers, keep the brokers busy meanwhile.
 *
 * PostgreSQL: --store URI gives the brokers `plugin_opt_store URI`, a database that
 * holds no jobs yet (a fresh one per run); --populate sql then fills an SQLite database
 * as below and moves it there with jobs-store-copy (--store-copy PATH, else the one
 * beside this program). --brokers 2 starts a second broker on the same database; client
 * c connects to broker c % 2, and the figures are given per broker too. --db-pid PID
 * (the postmaster) counts the database server's CPU (it and its children) apart from
 * the other processes'.
 *
 * Setup: --things T --jobs-per-thing J writes T x J executions straight into the
 * SQLite database (--populate sql, the default for a broker this program starts: the
 * broker runs once to create the schema with the plugin's migrations, stops, the
 * rows go in, and it starts again) or creates J jobs over the management API
 * (--populate api: the default for cycle and for an external broker; things are then
 * the active ones only). The first job (job-00001) is IN_PROGRESS on every thing and
 * the others QUEUED; for cycle all are QUEUED. Active slots use things spread evenly
 * over the T things; --access random sends each request to a random thing of T.
 *
 * Measures, after --warmup seconds (default 1), for --seconds (default 10) or until
 * --count round trips: round trips/s, p50/p99/max latency (us), broker CPU seconds per
 * 1000 round trips (utime+stime of /proc/PID/stat, all its threads), the broker's
 * RSS, and this program's own CPU. Prints one line of JSON, then one line for people.
 * Not a test: the machine's load moves the numbers. */
#include <mosquitto.h>
#include <sqlite3.h>

#include <arpa/inet.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <limits.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <pthread.h>
#include <pwd.h>
#include <signal.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#define NS_PER_S 1000000000ULL
#define RESPONSE_TOPIC "$CONTROL/jobs/v1/response"
#define CONTROL_TOPIC "$CONTROL/jobs/v1"
#define FANOUT_GROUP "bench-fanout"
#define GROUP_ARN_PREFIX "arn:aws:iot:us-east-1:000000000000:thinggroup/"
#define JOB_DOCUMENT "{\"operation\":\"upgrade\",\"version\":\"2.1.0\"," \
	"\"url\":\"https://updates.example.com/firmware/2.1.0.bin\"," \
	"\"sha256\":\"9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08\"}"
#define MAX_INFLIGHT 1000
#define MAX_SECONDS 3600

enum scenario { SC_LOOP, SC_UPDATE, SC_CYCLE, SC_GET_PENDING, SC_DESCRIBE, SC_FANOUT, SC_SLOW, SC_NOTIFY, SC_COUNT };
static const char *const scenario_names[SC_COUNT] = {
	"loop", "update", "cycle", "get-pending", "describe", "fanout", "slow-consumers", "notify",
};
#define MAX_BROKERS 2
enum populate { POP_DEFAULT, POP_SQL, POP_API };

struct options {
	const char *mosquitto_bin;
	const char *plugin;
	const char *db_dir;
	const char *host;
	int port;
	int broker_pid;
	const char *synchronous;
	enum scenario scenario;
	int clients, inflight, qos, threads, payload;
	double seconds, warmup, after;
	long count;
	long things, jobs_per_thing;
	bool random_access;
	enum populate populate;
	long fanout;
	bool fanout_list;
	long devices, job_count;   /* slow-consumers */
	double interval;
	bool offline;              /* persistent sessions, disconnected after subscribing */
	const char *broker_conf;   /* lines added to the generated mosquitto.conf */
	const char *store;         /* a PostgreSQL URI: plugin_opt_store */
	const char *store_copy;    /* jobs-store-copy */
	int brokers;               /* brokers started on the store */
	int db_pid;                /* the database server's postmaster, for its CPU */
	bool no_plugin, keep, no_access_options;
	const char *label;
};

/* ---- small helpers ---- */

static void emergency_cleanup(void);

__attribute__((format(printf, 1, 2), noreturn))
static void die(const char *fmt, ...)
{
	emergency_cleanup();
	va_list ap;
	va_start(ap, fmt);
	fputs("bench_jobs: ", stderr);
	vfprintf(stderr, fmt, ap);
	fputc('\n', stderr);
	va_end(ap);
	exit(1);
}

static uint64_t now_ns(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * NS_PER_S + (uint64_t)ts.tv_nsec;
}

static void sleep_until(uint64_t t)
{
	for(;;){
		uint64_t n = now_ns();
		if(n >= t) return;
		uint64_t d = t - n;
		struct timespec ts = { (time_t)(d / NS_PER_S), (long)(d % NS_PER_S) };
		nanosleep(&ts, NULL);
	}
}

static void sleep_ms(long ms)
{
	sleep_until(now_ns() + (uint64_t)ms * 1000000ULL);
}

static uint64_t rng_next(uint64_t *s)
{
	/* xorshift64* */
	uint64_t x = *s;
	x ^= x >> 12;
	x ^= x << 25;
	x ^= x >> 27;
	*s = x;
	return x * 2685821657736338717ULL;
}

static const char *find_in(const char *hay, size_t n, const char *needle)
{
	size_t m = strlen(needle);
	if(m == 0 || n < m) return NULL;
	for(size_t i = 0; i + m <= n; i++){
		if(hay[i] == needle[0] && memcmp(hay + i, needle, m) == 0) return hay + i;
	}
	return NULL;
}

static bool ends_with(const char *s, size_t len, const char *suffix)
{
	size_t m = strlen(suffix);
	return len >= m && memcmp(s + len - m, suffix, m) == 0;
}

static void thing_name(char *buf, size_t size, long index)
{
	snprintf(buf, size, "thing-%07ld", index);
}

static void job_name(char *buf, size_t size, long index)
{
	snprintf(buf, size, "job-%05ld", index);
}

/* A growable string. */
struct buf {
	char *p;
	size_t len, cap;
};

__attribute__((format(printf, 2, 3)))
static void buf_printf(struct buf *b, const char *fmt, ...)
{
	for(;;){
		va_list ap;
		va_start(ap, fmt);
		size_t room = b->cap - b->len;
		int n = vsnprintf(b->p ? b->p + b->len : NULL, b->p ? room : 0, fmt, ap);
		va_end(ap);
		if(n < 0) die("vsnprintf failed");
		if(b->p && (size_t)n < room){
			b->len += (size_t)n;
			return;
		}
		size_t ncap = b->cap ? b->cap * 2 : 4096;
		while(ncap < b->len + (size_t)n + 1) ncap *= 2;
		char *g = realloc(b->p, ncap);
		if(!g) die("out of memory");
		b->p = g;
		b->cap = ncap;
	}
}

/* ---- the broker process ---- */

struct cpu_mem {
	double cpu_s;
	long rss_kb, hwm_kb;
};

static double proc_cpu_s(int pid)
{
	char path[64], line[2048];
	snprintf(path, sizeof(path), "/proc/%d/stat", pid);
	FILE *f = fopen(path, "r");
	if(!f) return -1;
	size_t n = fread(line, 1, sizeof(line) - 1, f);
	fclose(f);
	line[n] = '\0';
	char *p = strrchr(line, ')');
	if(!p) return -1;
	/* after ") ": field 3 (state) ... field 14 utime, 15 stime */
	unsigned long long utime = 0, stime = 0;
	int field = 2;
	for(char *tok = strtok(p + 1, " "); tok; tok = strtok(NULL, " ")){
		field++;
		if(field == 14) utime = strtoull(tok, NULL, 10);
		if(field == 15){
			stime = strtoull(tok, NULL, 10);
			break;
		}
	}
	return (double)(utime + stime) / (double)sysconf(_SC_CLK_TCK);
}

static void proc_mem(int pid, long *rss_kb, long *hwm_kb)
{
	char path[64], line[256];
	*rss_kb = *hwm_kb = -1;
	snprintf(path, sizeof(path), "/proc/%d/status", pid);
	FILE *f = fopen(path, "r");
	if(!f) return;
	while(fgets(line, sizeof(line), f)){
		if(strncmp(line, "VmRSS:", 6) == 0) *rss_kb = atol(line + 6);
		if(strncmp(line, "VmHWM:", 6) == 0) *hwm_kb = atol(line + 6);
	}
	fclose(f);
}

/* CPU time (s) the whole machine spent busy, from the first line of /proc/stat. */
static double machine_busy_s(void)
{
	FILE *f = fopen("/proc/stat", "r");
	if(!f) return -1;
	unsigned long long v[10] = { 0 };
	int n = fscanf(f, "cpu %llu %llu %llu %llu %llu %llu %llu %llu", &v[0], &v[1], &v[2], &v[3], &v[4],
			&v[5], &v[6], &v[7]);
	fclose(f);
	if(n < 4) return -1;
	/* all but idle and iowait. A process's utime+stime include the softirq ticks
	 * taken in its context, which this file counts as softirq: so irq and softirq
	 * count here too, and what is left after the broker's and the bench's share is
	 * other processes, plus the interrupt time of this run's own packets taken while
	 * a core was idle (0.1-0.2 cores at 20k round trips/s). */
	unsigned long long busy = v[0] + v[1] + v[2] + v[5] + v[6] + v[7];
	return (double)busy / (double)sysconf(_SC_CLK_TCK);
}

static double self_cpu_s(void)
{
	struct rusage ru;
	getrusage(RUSAGE_SELF, &ru);
	return (double)ru.ru_utime.tv_sec + (double)ru.ru_utime.tv_usec / 1e6
		+ (double)ru.ru_stime.tv_sec + (double)ru.ru_stime.tv_usec / 1e6;
}

struct broker {
	int index;           /* 0, 1: in signal_broker_pid */
	pid_t pid;
	int port;
	char dir[PATH_MAX];
	char conf[PATH_MAX + 32];
	char log[PATH_MAX + 32];
	char db[PATH_MAX + 32];
	bool temp_dir;
};

/* Ctrl-C: stop the broker and leave no temporary folder behind. */
static volatile sig_atomic_t signal_broker_pid[MAX_BROKERS];
static char signal_dir[PATH_MAX + 64];

/* Async-signal-safe: also what die() does before it exits. */
static void emergency_cleanup(void)
{
	for(int i = 0; i < MAX_BROKERS; i++){
		if(signal_broker_pid[i] > 0){
			int status;
			kill((pid_t)signal_broker_pid[i], SIGTERM);
			waitpid((pid_t)signal_broker_pid[i], &status, 0);
		}
		signal_broker_pid[i] = 0;
	}
	if(signal_dir[0]){
		static const char *const names[] = { "/jobs.db", "/jobs.db-wal", "/jobs.db-shm", "/mosquitto.conf", "/mosquitto.log",
			"/jobs-2.db", "/jobs-2.db-wal", "/jobs-2.db-shm", "/mosquitto-2.conf", "/mosquitto-2.log" };
		char p[sizeof(signal_dir) + 32];
		size_t n = strlen(signal_dir);
		for(size_t i = 0; i < sizeof(names) / sizeof(*names); i++){
			memcpy(p, signal_dir, n);
			memcpy(p + n, names[i], strlen(names[i]) + 1);
			unlink(p);
		}
		rmdir(signal_dir);
	}
	signal_dir[0] = '\0';
}

static void on_signal(int sig)
{
	emergency_cleanup();
	signal(sig, SIG_DFL);
	raise(sig);
}

static int free_port(void)
{
	int fd = socket(AF_INET, SOCK_STREAM, 0);
	struct sockaddr_in a = { .sin_family = AF_INET, .sin_port = 0 };
	a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	socklen_t len = sizeof(a);
	if(fd < 0 || bind(fd, (struct sockaddr *)&a, sizeof(a)) != 0 || getsockname(fd, (struct sockaddr *)&a, &len) != 0){
		die("cannot find a free port: %s", strerror(errno));
	}
	close(fd);
	return ntohs(a.sin_port);
}

static bool port_open(int port)
{
	int fd = socket(AF_INET, SOCK_STREAM, 0);
	struct sockaddr_in a = { .sin_family = AF_INET, .sin_port = htons((uint16_t)port) };
	a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	bool ok = fd >= 0 && connect(fd, (struct sockaddr *)&a, sizeof(a)) == 0;
	if(fd >= 0) close(fd);
	return ok;
}

static void print_log_tail(const struct broker *b)
{
	FILE *f = fopen(b->log, "r");
	if(!f) return;
	char line[1024];
	fprintf(stderr, "bench_jobs: the broker's log (%s) says:\n", b->log);
	while(fgets(line, sizeof(line), f)) fprintf(stderr, "  %s", line);
	fclose(f);
}

static void client_id(char *buf, size_t size, int c);
static void slot_thing_name(char *buf, size_t size, int c, int k);

/* with_store: the plugin on --store (else on its SQLite file: the schema's first start) */
static void write_config(const struct broker *b, const struct options *o, bool with_plugin, bool with_store)
{
	FILE *f = fopen(b->conf, "w");
	if(!f) die("cannot write %s: %s", b->conf, strerror(errno));
	struct passwd *pw = getpwuid(geteuid());
	fprintf(f, "# written by bench_jobs\n"
		"listener %d 127.0.0.1\n"
		"allow_anonymous true\n"
		"per_listener_settings false\n"
		"set_tcp_nodelay true\n"
		"persistence false\n"
		"connection_messages false\n"
		"log_dest stderr\n"
		"log_type error\n"
		"log_type warning\n"
		"log_type notice\n",
		b->port);
	/* As root, Mosquitto would drop to the `mosquitto` user: stay the user who owns
	 * the database folder. */
	if(pw) fprintf(f, "user %s\n", pw->pw_name);
	if(with_plugin){
		fprintf(f, "plugin %s\n"
			"plugin_opt_db_path %s\n"
			"plugin_opt_synchronous %s\n",
			o->plugin, b->db, o->synchronous);
		if(with_store && o->store) fprintf(f, "plugin_opt_store %s\n", o->store);
	}
	if(with_plugin && !o->no_access_options){
		/* Thing isolation stays on, as deployed: a device whose client id is its thing
		 * name needs nothing; a client that plays several things (--inflight > 1,
		 * --access random) holds a grant for them, as a gateway would. */
		fprintf(f, "plugin_opt_other_topics allow\n"
			"plugin_opt_operators bench-op\n");
		/* the operator watches the thing a fan-out reaches last */
		if(o->scenario == SC_FANOUT) fprintf(f, "plugin_opt_grant_bench-op fan-%07ld\n", o->fanout - 1);
		bool devices = o->scenario != SC_LOOP && o->scenario != SC_FANOUT && o->scenario != SC_SLOW
			&& o->scenario != SC_NOTIFY;
		for(int c = 0; devices && (o->inflight > 1 || o->random_access) && c < o->clients; c++){
			char cid[48];
			client_id(cid, sizeof(cid), c);
			fprintf(f, "plugin_opt_grant_%s", cid);
			if(o->random_access){
				fputs(" *", f);
			}else{
				for(int k = 0; k < o->inflight; k++){
					char thing[32];
					slot_thing_name(thing, sizeof(thing), c, k);
					fprintf(f, " %s", thing);
				}
			}
			fputc('\n', f);
		}
	}
	if(o->broker_conf){
		FILE *extra = fopen(o->broker_conf, "r");
		if(!extra) die("cannot read --broker-conf %s: %s", o->broker_conf, strerror(errno));
		char line[1024];
		fprintf(f, "# from %s\n", o->broker_conf);
		while(fgets(line, sizeof(line), extra)) fputs(line, f);
		fclose(extra);
	}
	fclose(f);
}

static void broker_start(struct broker *b, const struct options *o, bool with_plugin, bool with_store)
{
	write_config(b, o, with_plugin, with_store);
	pid_t parent = getpid();
	pid_t pid = fork();
	if(pid < 0) die("fork: %s", strerror(errno));
	if(pid == 0){
		prctl(PR_SET_PDEATHSIG, SIGTERM);
		if(getppid() != parent) _exit(1);
		int fd = open(b->log, O_WRONLY | O_CREAT | O_APPEND, 0644);
		if(fd >= 0){
			dup2(fd, 1);
			dup2(fd, 2);
			close(fd);
		}
		execlp(o->mosquitto_bin, o->mosquitto_bin, "-c", b->conf, (char *)NULL);
		_exit(127);
	}
	b->pid = pid;
	signal_broker_pid[b->index] = pid;
	uint64_t deadline = now_ns() + 20 * NS_PER_S;
	while(now_ns() < deadline){
		if(port_open(b->port)) return;
		int status;
		if(waitpid(pid, &status, WNOHANG) == pid){
			b->pid = 0;
			signal_broker_pid[b->index] = 0;
			print_log_tail(b);
			die("mosquitto (%s) exited at start-up", o->mosquitto_bin);
		}
		sleep_ms(20);
	}
	print_log_tail(b);
	die("mosquitto did not open port %d", b->port);
}

static void broker_stop(struct broker *b)
{
	if(b->pid <= 0) return;
	kill(b->pid, SIGTERM);
	uint64_t deadline = now_ns() + 30 * NS_PER_S;
	int status;
	while(waitpid(b->pid, &status, WNOHANG) == 0){
		if(now_ns() > deadline){
			kill(b->pid, SIGKILL);
			waitpid(b->pid, &status, 0);
			break;
		}
		sleep_ms(10);
	}
	b->pid = 0;
	signal_broker_pid[b->index] = 0;
}

static long file_size(const char *path)
{
	struct stat st;
	return stat(path, &st) == 0 ? (long)st.st_size : 0;
}

static void remove_db_files(const char *db)
{
	char p[PATH_MAX + 40];
	unlink(db);
	snprintf(p, sizeof(p), "%s-wal", db);
	unlink(p);
	snprintf(p, sizeof(p), "%s-shm", db);
	unlink(p);
}

/* ---- the run's shared state ---- */

struct sample {
	uint64_t sent_ns;
	uint32_t us;
};

struct slot {
	int index;
	long thing;          /* fixed access: the thing this slot plays */
	int step;            /* cycle: 0 start-next, 1 update IN_PROGRESS, 2 update SUCCEEDED */
	bool busy, done;
	unsigned long n;
	uint64_t sent_ns;
	char job[72];
};

struct worker;

struct client {
	struct worker *w;
	struct mosquitto *mosq;
	int id, fd;
	bool ready, pollout;
	char cid[48];
	char loop_topic[64];
	char *loop_payload;
	struct slot *slots;
};

struct worker {
	pthread_t thread;
	int index, epfd;
	struct client *clients;
	int nclients;
	struct sample *samples;
	size_t nsamples, cap;
	long rts, cycles, rejected, exhausted, errors;
	long rts_by_broker[MAX_BROKERS];
	long per_second[MAX_SECONDS];
	uint32_t per_second_max[MAX_SECONDS];
	int busy;
	uint64_t rng;
	char first_reject[512];
	char failure[256];
};

static struct {
	struct options o;
	struct broker broker;    /* the first broker */
	struct broker broker2;   /* the second, with --brokers 2 */
	int nbrokers;
	const char *host;
	int port;                /* the first broker's */
	int ports[MAX_BROKERS];
	int broker_pid;          /* for CPU and memory: ours, or --broker-pid */
	int broker_pids[MAX_BROKERS];
	long things, jobs;       /* what the store holds */
	long active;             /* clients x inflight */
	long stride;             /* fixed access: slot g plays thing g * stride */
	bool loopish;            /* loop and fanout clients */
	atomic_int ready, go, stop, failed;
	_Atomic uint64_t t0, t1; /* the measuring window, in now_ns() */
	atomic_long window_rts;  /* for --count */
} B;

static long slot_thing(int c, int k)
{
	return ((long)c * B.o.inflight + k) * B.stride;
}

static void slot_thing_name(char *buf, size_t size, int c, int k)
{
	thing_name(buf, size, slot_thing(c, k));
}

/* A device that plays one thing connects with its thing name as client id, as AWS
 * IoT's usual policy wants; other clients get names of their own. */
static void client_id(char *buf, size_t size, int c)
{
	if(B.loopish) snprintf(buf, size, "bench-loop-%d", c);
	else if(B.o.inflight == 1 && !B.o.random_access) slot_thing_name(buf, size, c, 0);
	else snprintf(buf, size, "bench-gw-%d", c);
}

static void record(struct worker *w, uint64_t sent, uint64_t now, int broker)
{
	uint64_t t0 = atomic_load_explicit(&B.t0, memory_order_relaxed);
	uint64_t t1 = atomic_load_explicit(&B.t1, memory_order_relaxed);
	if(t0 == 0 || now < t0 || now >= t1) return;
	if(w->nsamples == w->cap){
		size_t ncap = w->cap ? w->cap * 2 : 65536;
		struct sample *g = realloc(w->samples, ncap * sizeof(*g));
		if(!g) die("out of memory");
		w->samples = g;
		w->cap = ncap;
	}
	uint64_t us = (now - sent) / 1000;
	w->samples[w->nsamples++] = (struct sample){ sent, us > UINT32_MAX ? UINT32_MAX : (uint32_t)us };
	w->rts++;
	w->rts_by_broker[broker]++;
	uint64_t second = (now - t0) / NS_PER_S;
	if(second < MAX_SECONDS){
		w->per_second[second]++;
		if(w->samples[w->nsamples - 1].us > w->per_second_max[second]) w->per_second_max[second] = w->samples[w->nsamples - 1].us;
	}
	if(B.o.count > 0 && atomic_fetch_add(&B.window_rts, 1) + 1 >= B.o.count){
		uint64_t inf = UINT64_MAX;
		atomic_compare_exchange_strong(&B.t1, &inf, now);
		atomic_store(&B.stop, 1);
	}
}

/* ---- the device side ---- */

static void slot_send(struct client *c, struct slot *s)
{
	struct worker *w = c->w;
	char topic[256], thing[32], payload[512];
	const char *body = payload;
	int len = 0;
	long t = B.o.random_access ? (long)(rng_next(&w->rng) % (uint64_t)B.things) : s->thing;
	thing_name(thing, sizeof(thing), t);
	s->n++;
	switch(B.o.scenario){
	case SC_LOOP:
	case SC_FANOUT:
	case SC_NOTIFY: {
		char head[8];
		snprintf(head, sizeof(head), "%05d|", s->index);
		memcpy(c->loop_payload, head, 6);
		snprintf(topic, sizeof(topic), "%s", c->loop_topic);
		body = c->loop_payload;
		len = B.o.payload;
		break;
	}
	case SC_UPDATE:
		snprintf(topic, sizeof(topic), "$aws/things/%s/jobs/job-00001/update", thing);
		len = snprintf(payload, sizeof(payload),
			"{\"status\":\"IN_PROGRESS\",\"statusDetails\":{\"step\":\"download\",\"progress\":\"%lu\"},"
			"\"clientToken\":\"%d\"}", s->n % 100, s->index);
		break;
	case SC_GET_PENDING:
		snprintf(topic, sizeof(topic), "$aws/things/%s/jobs/get", thing);
		len = snprintf(payload, sizeof(payload), "{\"clientToken\":\"%d\"}", s->index);
		break;
	case SC_DESCRIBE:
		snprintf(topic, sizeof(topic), "$aws/things/%s/jobs/job-00001/get", thing);
		len = snprintf(payload, sizeof(payload), "{\"clientToken\":\"%d\"}", s->index);
		break;
	case SC_CYCLE:
		if(s->step == 0){
			snprintf(topic, sizeof(topic), "$aws/things/%s/jobs/start-next", thing);
			len = snprintf(payload, sizeof(payload), "{\"clientToken\":\"%d\"}", s->index);
		}else{
			snprintf(topic, sizeof(topic), "$aws/things/%s/jobs/%s/update", thing, s->job);
			len = snprintf(payload, sizeof(payload), s->step == 1
				? "{\"status\":\"IN_PROGRESS\",\"statusDetails\":{\"step\":\"download\"},\"clientToken\":\"%d\"}"
				: "{\"status\":\"SUCCEEDED\",\"statusDetails\":{\"result\":\"ok\"},\"clientToken\":\"%d\"}",
				s->index);
		}
		break;
	case SC_SLOW: /* its devices are plain sockets (slow_consumers) */
	case SC_COUNT:
		break;
	}
	s->busy = true;
	w->busy++;
	s->sent_ns = now_ns();
	int rc = mosquitto_publish(c->mosq, NULL, topic, len, body, B.o.qos, false);
	if(rc != MOSQ_ERR_SUCCESS){
		s->busy = false;
		w->busy--;
		w->errors++;
		snprintf(w->failure, sizeof(w->failure), "publish on %.200s: %s", topic, mosquitto_strerror(rc));
		atomic_store(&B.failed, 1);
	}
}

static int token_slot(const char *payload, size_t len)
{
	const char *p = find_in(payload, len, "\"clientToken\":\"");
	if(!p) return -1;
	p += 15;
	int v = 0, digits = 0;
	while(p < payload + len && *p >= '0' && *p <= '9' && digits < 6){
		v = v * 10 + (*p++ - '0');
		digits++;
	}
	return digits ? v : -1;
}

static void on_message(struct mosquitto *mosq, void *obj, const struct mosquitto_message *m)
{
	(void)mosq;
	struct client *c = obj;
	struct worker *w = c->w;
	uint64_t now = now_ns();
	const char *payload = m->payload ? m->payload : "";
	size_t plen = m->payloadlen > 0 ? (size_t)m->payloadlen : 0;
	size_t tlen = strlen(m->topic);
	bool accepted = true;
	int slot;
	if(B.loopish){
		if(strcmp(m->topic, c->loop_topic) != 0 || plen < 6) return;
		slot = atoi(payload);
	}else{
		if(ends_with(m->topic, tlen, "/accepted")) accepted = true;
		else if(ends_with(m->topic, tlen, "/rejected")) accepted = false;
		else return;
		slot = token_slot(payload, plen);
	}
	if(slot < 0 || slot >= B.o.inflight || !c->slots[slot].busy){
		w->errors++;
		return;
	}
	struct slot *s = &c->slots[slot];
	s->busy = false;
	w->busy--;
	record(w, s->sent_ns, now, c->id % B.nbrokers);
	if(!accepted){
		if(w->rejected++ == 0){
			snprintf(w->first_reject, sizeof(w->first_reject), "%s %.*s", m->topic,
					(int)(plen > 300 ? 300 : plen), payload);
		}
		s->step = 0;
	}else if(B.o.scenario == SC_CYCLE){
		if(s->step == 0){
			const char *j = find_in(payload, plen, "\"jobId\":\"");
			if(!j){
				s->done = true; /* nothing pending any more */
				w->exhausted++;
				return;
			}
			j += 9;
			size_t n = 0;
			while(j + n < payload + plen && j[n] != '"' && n < sizeof(s->job) - 1) n++;
			memcpy(s->job, j, n);
			s->job[n] = '\0';
			s->step = 1;
		}else if(s->step == 1){
			s->step = 2;
		}else{
			s->step = 0;
			uint64_t t0 = atomic_load_explicit(&B.t0, memory_order_relaxed);
			if(t0 && now >= t0 && now < atomic_load_explicit(&B.t1, memory_order_relaxed)) w->cycles++;
		}
	}
	if(!atomic_load_explicit(&B.stop, memory_order_relaxed) && !s->done) slot_send(c, s);
}

static void on_connect(struct mosquitto *mosq, void *obj, int rc)
{
	struct client *c = obj;
	if(rc != 0){
		snprintf(c->w->failure, sizeof(c->w->failure), "%s: connection refused: %s", c->cid,
				mosquitto_connack_string(rc));
		atomic_store(&B.failed, 1);
		return;
	}
	if(B.loopish){
		int r = mosquitto_subscribe(mosq, NULL, c->loop_topic, B.o.qos);
		if(r != MOSQ_ERR_SUCCESS){
			snprintf(c->w->failure, sizeof(c->w->failure), "subscribe: %s", mosquitto_strerror(r));
			atomic_store(&B.failed, 1);
		}
	}else{
		c->ready = true;
		atomic_fetch_add(&B.ready, 1);
	}
}

static void on_subscribe(struct mosquitto *mosq, void *obj, int mid, int qos_count, const int *granted)
{
	(void)mosq;
	(void)mid;
	struct client *c = obj;
	if(qos_count < 1 || granted[0] > 2){
		snprintf(c->w->failure, sizeof(c->w->failure), "%s: subscription refused", c->cid);
		atomic_store(&B.failed, 1);
		return;
	}
	c->ready = true;
	atomic_fetch_add(&B.ready, 1);
}

static void set_nodelay(struct mosquitto *mosq)
{
	/* libmosquitto sets TCP_NODELAY only when asked (MOSQ_OPT_TCP_NODELAY); check. */
	int fd = mosquitto_socket(mosq), on = 0;
	socklen_t len = sizeof(on);
	if(fd >= 0 && getsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &on, &len) == 0 && !on){
		on = 1;
		setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &on, sizeof(on));
	}
}

static void update_poll(struct client *c)
{
	bool want = mosquitto_want_write(c->mosq);
	if(want == c->pollout) return;
	struct epoll_event ev = { .events = EPOLLIN | (want ? EPOLLOUT : 0), .data.ptr = c };
	epoll_ctl(c->w->epfd, EPOLL_CTL_MOD, c->fd, &ev);
	c->pollout = want;
}

static void client_fail(struct client *c, const char *what, int rc)
{
	if(!c->w->failure[0]){
		snprintf(c->w->failure, sizeof(c->w->failure), "%s: %s: %s", c->cid, what,
				rc == MOSQ_ERR_ERRNO ? strerror(errno) : mosquitto_strerror(rc));
	}
	atomic_store(&B.failed, 1);
}

static void client_service(struct client *c, uint32_t events)
{
	if(events & (EPOLLIN | EPOLLERR | EPOLLHUP)){
		int rc = mosquitto_loop_read(c->mosq, 1);
		if(rc != MOSQ_ERR_SUCCESS){
			client_fail(c, "read", rc);
			return;
		}
	}
	if(mosquitto_want_write(c->mosq)){
		int rc = mosquitto_loop_write(c->mosq, 1);
		if(rc != MOSQ_ERR_SUCCESS){
			client_fail(c, "write", rc);
			return;
		}
	}
	update_poll(c);
}

static void client_open(struct worker *w, struct client *c)
{
	c->w = w;
	client_id(c->cid, sizeof(c->cid), c->id);
	snprintf(c->loop_topic, sizeof(c->loop_topic), "bench/loop/%d", c->id);
	c->slots = calloc((size_t)B.o.inflight, sizeof(*c->slots));
	c->loop_payload = malloc((size_t)B.o.payload + 8);
	if(!c->slots || !c->loop_payload) die("out of memory");
	memset(c->loop_payload, 'x', (size_t)B.o.payload);
	for(int k = 0; k < B.o.inflight; k++){
		c->slots[k].index = k;
		c->slots[k].thing = slot_thing(c->id, k);
	}
	c->mosq = mosquitto_new(c->cid, true, c);
	if(!c->mosq) die("mosquitto_new failed");
	mosquitto_int_option(c->mosq, MOSQ_OPT_TCP_NODELAY, 1);
	mosquitto_connect_callback_set(c->mosq, on_connect);
	mosquitto_subscribe_callback_set(c->mosq, on_subscribe);
	mosquitto_message_callback_set(c->mosq, on_message);
	int rc = mosquitto_connect(c->mosq, B.host, B.ports[c->id % B.nbrokers], 60);
	if(rc != MOSQ_ERR_SUCCESS){
		client_fail(c, "connect", rc);
		return;
	}
	set_nodelay(c->mosq);
	c->fd = mosquitto_socket(c->mosq);
	struct epoll_event ev = { .events = EPOLLIN, .data.ptr = c };
	if(epoll_ctl(w->epfd, EPOLL_CTL_ADD, c->fd, &ev) != 0) die("epoll_ctl: %s", strerror(errno));
	update_poll(c);
}

static void *worker_main(void *arg)
{
	struct worker *w = arg;
	w->epfd = epoll_create1(0);
	if(w->epfd < 0) die("epoll_create1: %s", strerror(errno));
	for(int i = 0; i < w->nclients; i++) client_open(w, &w->clients[i]);

	struct epoll_event evs[128];
	bool started = false;
	uint64_t drain_until = 0, last_misc = now_ns();
	while(!atomic_load(&B.failed)){
		int n = epoll_wait(w->epfd, evs, 128, 20);
		for(int i = 0; i < n; i++) client_service(evs[i].data.ptr, evs[i].events);
		if(!started && atomic_load_explicit(&B.go, memory_order_relaxed)){
			started = true;
			for(int i = 0; i < w->nclients; i++){
				struct client *c = &w->clients[i];
				for(int k = 0; k < B.o.inflight; k++) slot_send(c, &c->slots[k]);
				update_poll(c);
			}
		}
		uint64_t now = now_ns();
		if(atomic_load_explicit(&B.stop, memory_order_relaxed)){
			if(!drain_until) drain_until = now + 5 * NS_PER_S;
			if(w->busy == 0 || now > drain_until) break;
		}
		if(now - last_misc > NS_PER_S){
			last_misc = now;
			for(int i = 0; i < w->nclients; i++){
				mosquitto_loop_misc(w->clients[i].mosq);
				update_poll(&w->clients[i]);
			}
		}
	}
	for(int i = 0; i < w->nclients; i++){
		struct client *c = &w->clients[i];
		if(c->mosq){
			mosquitto_disconnect(c->mosq);
			mosquitto_destroy(c->mosq);
		}
		free(c->slots);
		free(c->loop_payload);
	}
	close(w->epfd);
	return NULL;
}

/* ---- the operator: management API calls from the main thread ---- */

struct operator {
	struct mosquitto *mosq;
	bool got;
	char *resp;
	size_t resp_len;
	/* fan-out: the notify-next of the thing reached last tells when it was reached */
	char watch[160];
	int watch_state;         /* 0 none, 1 subscribing, 2 subscribed, 3 refused */
	uint64_t watch_ns;       /* when its first notify-next arrived; 0: not yet */
};

static void op_on_message(struct mosquitto *mosq, void *obj, const struct mosquitto_message *m)
{
	(void)mosq;
	struct operator *op = obj;
	if(op->watch[0] && strcmp(m->topic, op->watch) == 0){
		if(!op->watch_ns) op->watch_ns = now_ns();
		return;
	}
	if(strcmp(m->topic, RESPONSE_TOPIC) != 0) return;
	free(op->resp);
	op->resp = malloc((size_t)m->payloadlen + 1);
	if(!op->resp) die("out of memory");
	memcpy(op->resp, m->payload, (size_t)m->payloadlen);
	op->resp[m->payloadlen] = '\0';
	op->resp_len = (size_t)m->payloadlen;
	op->got = true;
}

static void op_on_subscribe(struct mosquitto *mosq, void *obj, int mid, int qos_count, const int *granted)
{
	(void)mosq;
	(void)mid;
	struct operator *op = obj;
	op->watch_state = qos_count >= 1 && granted[0] <= 2 ? 2 : 3;
}

/* Subscribes to `topic` and waits for the broker's answer; false when refused. */
static bool op_watch(struct operator *op, const char *topic)
{
	snprintf(op->watch, sizeof(op->watch), "%s", topic);
	op->watch_state = 1;
	op->watch_ns = 0;
	if(mosquitto_subscribe(op->mosq, NULL, topic, 1) != MOSQ_ERR_SUCCESS) return false;
	uint64_t deadline = now_ns() + 10 * NS_PER_S;
	while(op->watch_state == 1 && now_ns() < deadline){
		if(mosquitto_loop(op->mosq, 50, 1) != MOSQ_ERR_SUCCESS) return false;
	}
	return op->watch_state == 2;
}

static void op_open(struct operator *op)
{
	char cid[48];
	snprintf(cid, sizeof(cid), "bench-op");
	op->mosq = mosquitto_new(cid, true, op);
	if(!op->mosq) die("mosquitto_new failed");
	mosquitto_int_option(op->mosq, MOSQ_OPT_TCP_NODELAY, 1);
	mosquitto_message_callback_set(op->mosq, op_on_message);
	mosquitto_subscribe_callback_set(op->mosq, op_on_subscribe);
	int rc = mosquitto_connect(op->mosq, B.host, B.port, 600);
	if(rc != MOSQ_ERR_SUCCESS) die("operator: cannot connect to %s:%d: %s", B.host, B.port, mosquitto_strerror(rc));
	set_nodelay(op->mosq);
}

static void op_close(struct operator *op)
{
	if(!op->mosq) return;
	mosquitto_disconnect(op->mosq);
	mosquitto_loop(op->mosq, 10, 1);
	mosquitto_destroy(op->mosq);
	free(op->resp);
	memset(op, 0, sizeof(*op));
}

static size_t count_in(const char *hay, size_t n, const char *needle)
{
	size_t count = 0, m = strlen(needle);
	for(const char *p = hay; (p = find_in(p, n - (size_t)(p - hay), needle)); p += m) count++;
	return count;
}

/* Sends one management request and waits for its response; dies on any error entry
 * (but ResourceAlreadyExistsException when `exists_ok`: setting up a store again). */
static const char *op_call_ex(struct operator *op, const char *payload, size_t len, double timeout_s, bool exists_ok)
{
	op->got = false;
	int rc = mosquitto_publish(op->mosq, NULL, CONTROL_TOPIC, (int)len, payload, 1, false);
	if(rc != MOSQ_ERR_SUCCESS) die("operator: publish: %s", mosquitto_strerror(rc));
	uint64_t deadline = now_ns() + (uint64_t)(timeout_s * 1e9);
	while(!op->got){
		rc = mosquitto_loop(op->mosq, 50, 1);
		if(rc != MOSQ_ERR_SUCCESS) die("operator: connection: %s", mosquitto_strerror(rc));
		if(now_ns() > deadline) die("operator: no response within %.0f s (is this client an operator?)", timeout_s);
		if(atomic_load(&B.failed)) die("operator: the clients failed meanwhile");
	}
	size_t errors = count_in(op->resp, op->resp_len, "\"error\"");
	if(errors && !(exists_ok && count_in(op->resp, op->resp_len, "\"ResourceAlreadyExistsException") == errors)){
		die("management API error: %.600s", op->resp);
	}
	return op->resp;
}

static const char *op_call(struct operator *op, const char *payload, size_t len, double timeout_s)
{
	return op_call_ex(op, payload, len, timeout_s, false);
}

/* A job's QUEUED executions, from describeJob. */
static long describe_queued(struct operator *op, const char *job_id)
{
	char req[160];
	int n = snprintf(req, sizeof(req), "{\"commands\":[{\"command\":\"describeJob\",\"jobId\":\"%s\"}]}", job_id);
	const char *r = op_call(op, req, (size_t)n, 60);
	const char *q = strstr(r, "\"numberOfQueuedThings\":");
	return q ? atol(q + 23) : -1;
}

/* ---- setup ---- */

static void sql_exec(sqlite3 *db, const char *sql)
{
	char *err = NULL;
	if(sqlite3_exec(db, sql, NULL, NULL, &err) != SQLITE_OK) die("sqlite: %s: %s", sql, err ? err : "?");
}

static void sql_populate(const char *path, long fanout_members)
{
	sqlite3 *db;
	if(sqlite3_open_v2(path, &db, SQLITE_OPEN_READWRITE, NULL) != SQLITE_OK) die("cannot open %s", path);
	sql_exec(db, "PRAGMA synchronous = OFF; PRAGMA cache_size = -262144; BEGIN");
	int64_t now = (int64_t)time(NULL);
	sqlite3_stmt *st;
	int64_t *seq = calloc((size_t)B.jobs + 1, sizeof(*seq));
	if(!seq) die("out of memory");
	if(sqlite3_prepare_v2(db, "INSERT INTO jobs(job_id, status, document, targets, created_at, last_updated_at)"
				" VALUES(?1, 0, ?2, ?3, ?4, ?4)", -1, &st, NULL) != SQLITE_OK){
		die("sqlite: %s (does the plugin's schema match?)", sqlite3_errmsg(db));
	}
	for(long j = 1; j <= B.jobs; j++){
		char name[32];
		job_name(name, sizeof(name), j);
		sqlite3_bind_text(st, 1, name, -1, SQLITE_TRANSIENT);
		sqlite3_bind_text(st, 2, JOB_DOCUMENT, -1, SQLITE_STATIC);
		sqlite3_bind_text(st, 3, "[\"" GROUP_ARN_PREFIX "bench\"]", -1, SQLITE_STATIC);
		sqlite3_bind_int64(st, 4, now - B.jobs + j);
		if(sqlite3_step(st) != SQLITE_DONE) die("sqlite: insert job: %s", sqlite3_errmsg(db));
		sqlite3_reset(st);
		seq[j] = sqlite3_last_insert_rowid(db);
	}
	sqlite3_finalize(st);
	if(sqlite3_prepare_v2(db, "INSERT INTO executions(thing, job_seq, execution_number, namespace_id, status,"
				" queued_at, started_at, last_updated_at, version) VALUES(?1, ?2, 1, '', ?3, ?4, ?5, ?6, ?7)",
				-1, &st, NULL) != SQLITE_OK){
		die("sqlite: %s", sqlite3_errmsg(db));
	}
	bool first_in_progress = B.o.scenario != SC_CYCLE;
	for(long t = 0; t < B.things && B.jobs > 0; t++){
		char thing[32];
		thing_name(thing, sizeof(thing), t);
		for(long j = 1; j <= B.jobs; j++){
			bool running = first_in_progress && j == 1;
			sqlite3_bind_text(st, 1, thing, -1, SQLITE_TRANSIENT);
			sqlite3_bind_int64(st, 2, seq[j]);
			sqlite3_bind_int(st, 3, running ? 0 : 1);
			sqlite3_bind_int64(st, 4, now - B.jobs + j);
			sqlite3_bind_int64(st, 5, running ? now : 0);
			sqlite3_bind_int64(st, 6, running ? now : now - B.jobs + j);
			sqlite3_bind_int64(st, 7, running ? 2 : 1);
			if(sqlite3_step(st) != SQLITE_DONE) die("sqlite: insert execution: %s", sqlite3_errmsg(db));
			sqlite3_reset(st);
		}
	}
	sqlite3_finalize(st);
	free(seq);
	if(fanout_members > 0){
		char sql[256];
		snprintf(sql, sizeof(sql), "INSERT INTO thing_groups(name, description, created_at)"
				" VALUES('%s', 'bench fan-out', %lld)", FANOUT_GROUP, (long long)now);
		sql_exec(db, sql);
		if(sqlite3_prepare_v2(db, "INSERT INTO group_members(group_name, thing, added_at) VALUES(?1, ?2, ?3)",
					-1, &st, NULL) != SQLITE_OK){
			die("sqlite: %s", sqlite3_errmsg(db));
		}
		for(long i = 0; i < fanout_members; i++){
			char thing[32];
			snprintf(thing, sizeof(thing), "fan-%07ld", i);
			sqlite3_bind_text(st, 1, FANOUT_GROUP, -1, SQLITE_STATIC);
			sqlite3_bind_text(st, 2, thing, -1, SQLITE_TRANSIENT);
			sqlite3_bind_int64(st, 3, now);
			if(sqlite3_step(st) != SQLITE_DONE) die("sqlite: insert member: %s", sqlite3_errmsg(db));
			sqlite3_reset(st);
		}
		sqlite3_finalize(st);
	}
	sql_exec(db, "COMMIT; PRAGMA wal_checkpoint(TRUNCATE)");
	sqlite3_close(db);
}

/* J createJob commands for the active things, a few per message. */
static void api_populate(struct operator *op, long fanout_members)
{
	const long per_msg = 20;
	struct buf b = { 0 };
	for(long j = 1; j <= B.jobs; j += per_msg){
		b.len = 0;
		buf_printf(&b, "{\"commands\":[");
		for(long k = j; k < j + per_msg && k <= B.jobs; k++){
			char name[32];
			job_name(name, sizeof(name), k);
			buf_printf(&b, "%s{\"command\":\"createJob\",\"jobId\":\"%s\",\"document\":%s,\"targets\":[",
					k == j ? "" : ",", name, JOB_DOCUMENT);
			for(long t = 0; t < B.active; t++){
				char thing[32];
				thing_name(thing, sizeof(thing), t * B.stride); /* = slot_thing(t / K, t % K) */
				buf_printf(&b, "%s\"%s\"", t ? "," : "", thing);
			}
			buf_printf(&b, "]}");
		}
		buf_printf(&b, "]}");
		op_call_ex(op, b.p, b.len, 600, true);
	}
	if(fanout_members > 0){
		b.len = 0;
		buf_printf(&b, "{\"commands\":[{\"command\":\"createThingGroup\",\"thingGroupName\":\"%s\","
				"\"thingGroupProperties\":{\"thingGroupDescription\":\"bench fan-out\"}}]}", FANOUT_GROUP);
		op_call_ex(op, b.p, b.len, 60, true);
		const long members_per_msg = 500;
		for(long i = 0; i < fanout_members; i += members_per_msg){
			b.len = 0;
			buf_printf(&b, "{\"commands\":[");
			for(long k = i; k < i + members_per_msg && k < fanout_members; k++){
				buf_printf(&b, "%s{\"command\":\"addThingToThingGroup\",\"thingGroupName\":\"%s\","
						"\"thingName\":\"fan-%07ld\"}", k == i ? "" : ",", FANOUT_GROUP, k);
			}
			buf_printf(&b, "]}");
			op_call_ex(op, b.p, b.len, 600, true);
		}
	}
	free(b.p);
}

/* Moves the SQLite database `db` into the --store database (jobs-store-copy). */
static void store_copy(const struct options *o, const char *db)
{
	pid_t pid = fork();
	if(pid < 0) die("fork: %s", strerror(errno));
	if(pid == 0){
		dup2(2, 1); /* its summary goes to stderr: stdout is the figures' */
		execl(o->store_copy, o->store_copy, db, o->store, (char *)NULL);
		fprintf(stderr, "bench_jobs: cannot run %s: %s\n", o->store_copy, strerror(errno));
		_exit(127);
	}
	int status;
	if(waitpid(pid, &status, 0) != pid || !WIFEXITED(status) || WEXITSTATUS(status) != 0){
		die("%s %s %s failed (the database must hold no jobs yet)", o->store_copy, db, o->store);
	}
}

/* CPU seconds of a process and its children (a database server: the postmaster, its
 * backends and helpers; those that exited are left out). */
static double tree_cpu_s(int pid)
{
	double sum = proc_cpu_s(pid);
	DIR *d = sum < 0 ? NULL : opendir("/proc");
	if(!d) return -1;
	for(struct dirent *e; (e = readdir(d));){
		if(e->d_name[0] < '1' || e->d_name[0] > '9') continue;
		char path[300], line[512];
		snprintf(path, sizeof(path), "/proc/%s/stat", e->d_name);
		FILE *f = fopen(path, "r");
		if(!f) continue;
		size_t n = fread(line, 1, sizeof(line) - 1, f);
		fclose(f);
		line[n] = '\0';
		char *p = strrchr(line, ')');
		int ppid = 0;
		char state;
		if(p && sscanf(p + 1, " %c %d", &state, &ppid) == 2 && ppid == pid){
			double c = proc_cpu_s(atoi(e->d_name));
			if(c > 0) sum += c;
		}
	}
	closedir(d);
	return sum;
}

static double wall_s(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_REALTIME, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* ---- notify: a job created through the first broker, its notify-next on a device of
 * each broker ---- */

struct watcher {
	struct mosquitto *mosq;
	char thing[32];
	char topic[96];
	atomic_int state;          /* 0 connecting, 1 subscribed, 2 refused */
	atomic_long want;          /* the job (lat-N) whose notify-next is awaited */
	_Atomic uint64_t got_ns;   /* when it came; 0: not yet */
};

static long lat_job(const char *payload, size_t len)
{
	const char *p = find_in(payload, len, "\"jobId\":\"lat-");
	if(!p) return -1;
	long v = 0;
	for(p += 13; p < payload + len && *p >= '0' && *p <= '9'; p++) v = v * 10 + (*p - '0');
	return v;
}

static void watch_on_message(struct mosquitto *mosq, void *obj, const struct mosquitto_message *m)
{
	(void)mosq;
	uint64_t now = now_ns();
	struct watcher *wt = obj;
	if(strcmp(m->topic, wt->topic) != 0) return;
	long n = lat_job(m->payload ? m->payload : "", m->payloadlen > 0 ? (size_t)m->payloadlen : 0);
	uint64_t zero = 0;
	if(n > 0 && n == atomic_load(&wt->want)) atomic_compare_exchange_strong(&wt->got_ns, &zero, now);
}

static void watch_on_connect(struct mosquitto *mosq, void *obj, int rc)
{
	struct watcher *wt = obj;
	if(rc != 0 || mosquitto_subscribe(mosq, NULL, wt->topic, 1) != MOSQ_ERR_SUCCESS) atomic_store(&wt->state, 2);
}

static void watch_on_subscribe(struct mosquitto *mosq, void *obj, int mid, int qos_count, const int *granted)
{
	(void)mosq;
	(void)mid;
	struct watcher *wt = obj;
	atomic_store(&wt->state, qos_count >= 1 && granted[0] <= 2 ? 1 : 2);
}

/* A device (client id = its thing) on `port`, subscribed to its notify-next, served by
 * a thread of its own so that its arrival times are taken at once. */
static void watch_open(struct watcher *wt, const char *thing, int port)
{
	snprintf(wt->thing, sizeof(wt->thing), "%s", thing);
	snprintf(wt->topic, sizeof(wt->topic), "$aws/things/%s/jobs/notify-next", thing);
	wt->mosq = mosquitto_new(thing, true, wt);
	if(!wt->mosq) die("mosquitto_new failed");
	mosquitto_int_option(wt->mosq, MOSQ_OPT_TCP_NODELAY, 1);
	mosquitto_connect_callback_set(wt->mosq, watch_on_connect);
	mosquitto_subscribe_callback_set(wt->mosq, watch_on_subscribe);
	mosquitto_message_callback_set(wt->mosq, watch_on_message);
	if(mosquitto_connect(wt->mosq, B.host, port, 60) != MOSQ_ERR_SUCCESS) die("%s: cannot connect", thing);
	set_nodelay(wt->mosq);
	if(mosquitto_loop_start(wt->mosq) != MOSQ_ERR_SUCCESS) die("%s: mosquitto_loop_start failed", thing);
	uint64_t deadline = now_ns() + 10 * NS_PER_S;
	while(atomic_load(&wt->state) == 0 && now_ns() < deadline) sleep_ms(2);
	if(atomic_load(&wt->state) != 1) die("%s: no subscription to %s", thing, wt->topic);
}

static void watch_close(struct watcher *wt)
{
	mosquitto_disconnect(wt->mosq);
	mosquitto_loop_stop(wt->mosq, false);
	mosquitto_destroy(wt->mosq);
}

struct notify_figures {
	long jobs, missed[MAX_BROKERS];
	uint32_t *lat[MAX_BROKERS];  /* createJob sent -> notify-next on broker i's device, us */
	size_t n[MAX_BROKERS];
	uint32_t *answer;            /* createJob sent -> its answer, us */
};

/* --job-count jobs for the devices nfy-a (first broker) and nfy-b (second), created
 * by the operator on the first broker one at a time, a random 0 to --interval seconds
 * after the previous one reached both (and was cancelled). */
static void notify_run(const struct options *o, struct operator *op, struct notify_figures *nf)
{
	static const char *const things[MAX_BROKERS] = { "nfy-a", "nfy-b" };
	struct watcher wts[MAX_BROKERS];
	memset(wts, 0, sizeof(wts));
	for(int i = 0; i < B.nbrokers; i++) watch_open(&wts[i], things[i], B.ports[i]);
	nf->jobs = o->job_count;
	nf->answer = calloc((size_t)o->job_count, sizeof(uint32_t));
	for(int i = 0; i < B.nbrokers; i++) nf->lat[i] = calloc((size_t)o->job_count, sizeof(uint32_t));
	uint64_t rng = 0x9E3779B97F4A7C15ULL ^ (uint64_t)getpid() ^ now_ns();
	struct buf req = { 0 };
	for(long j = 1; j <= o->job_count && !atomic_load(&B.failed); j++){
		sleep_until(now_ns() + (uint64_t)((double)(rng_next(&rng) % 1000000) / 1e6 * o->interval * 1e9));
		for(int i = 0; i < B.nbrokers; i++){
			atomic_store(&wts[i].got_ns, 0);
			atomic_store(&wts[i].want, j);
		}
		req.len = 0;
		buf_printf(&req, "{\"commands\":[{\"command\":\"createJob\",\"jobId\":\"lat-%05ld\",\"document\":%s,"
				"\"targets\":[\"%s\"%s%s%s]}]}", j, JOB_DOCUMENT, things[0], B.nbrokers > 1 ? ",\"" : "",
				B.nbrokers > 1 ? things[1] : "", B.nbrokers > 1 ? "\"" : "");
		uint64_t sent = now_ns();
		op_call(op, req.p, req.len, 60);
		nf->answer[j - 1] = (uint32_t)((now_ns() - sent) / 1000);
		uint64_t deadline = sent + 10 * NS_PER_S;
		for(;;){
			bool all = true;
			for(int i = 0; i < B.nbrokers; i++) all = all && atomic_load(&wts[i].got_ns) != 0;
			if(all || now_ns() > deadline) break;
			sleep_until(now_ns() + 200000);
		}
		for(int i = 0; i < B.nbrokers; i++){
			uint64_t got = atomic_load(&wts[i].got_ns);
			if(got) nf->lat[i][nf->n[i]++] = (uint32_t)((got - sent) / 1000);
			else nf->missed[i]++;
		}
		req.len = 0;
		buf_printf(&req, "{\"commands\":[{\"command\":\"cancelJob\",\"jobId\":\"lat-%05ld\"}]}", j);
		op_call(op, req.p, req.len, 60);
	}
	free(req.p);
	for(int i = 0; i < B.nbrokers; i++) watch_close(&wts[i]);
}

/* ---- results ---- */

static int cmp_u32(const void *a, const void *b)
{
	uint32_t x = *(const uint32_t *)a, y = *(const uint32_t *)b;
	return x < y ? -1 : x > y;
}

struct stats {
	size_t n;
	uint32_t p50, p99, max;
	double mean;
};

static struct stats stats_of(uint32_t *v, size_t n)
{
	struct stats s = { .n = n };
	if(n == 0) return s;
	qsort(v, n, sizeof(*v), cmp_u32);
	double sum = 0;
	for(size_t i = 0; i < n; i++) sum += v[i];
	s.mean = sum / (double)n;
	s.p50 = v[n / 2];
	s.p99 = v[n * 99 / 100 < n ? n * 99 / 100 : n - 1];
	s.max = v[n - 1];
	return s;
}

/* Latencies of the samples whose round trip matches `keep`. */
static struct stats select_stats(struct worker *ws, int nw, bool (*keep)(const struct sample *, const void *),
		const void *ctx)
{
	size_t total = 0;
	for(int i = 0; i < nw; i++) total += ws[i].nsamples;
	uint32_t *v = malloc((total ? total : 1) * sizeof(*v));
	if(!v) die("out of memory");
	size_t n = 0;
	for(int i = 0; i < nw; i++){
		for(size_t k = 0; k < ws[i].nsamples; k++){
			if(!keep || keep(&ws[i].samples[k], ctx)) v[n++] = ws[i].samples[k].us;
		}
	}
	struct stats s = stats_of(v, n);
	free(v);
	return s;
}

struct span {
	uint64_t from, to;
};

/* A round trip that was under way at some moment of the span. */
static bool overlaps(const struct sample *s, const void *ctx)
{
	const struct span *sp = ctx;
	uint64_t done = s->sent_ns + (uint64_t)s->us * 1000;
	return s->sent_ns < sp->to && done > sp->from;
}

static bool before(const struct sample *s, const void *ctx)
{
	const struct span *sp = ctx;
	return s->sent_ns + (uint64_t)s->us * 1000 <= sp->from;
}

static bool after(const struct sample *s, const void *ctx)
{
	const struct span *sp = ctx;
	return s->sent_ns >= sp->to;
}

static void json_string(FILE *f, const char *key, const char *value)
{
	fprintf(f, "\"%s\":\"", key);
	for(const char *p = value; p && *p; p++){
		if(*p == '"' || *p == '\\') fputc('\\', f);
		if((unsigned char)*p >= 0x20) fputc(*p, f);
	}
	fputs("\",", f);
}

static const char *populate_name(void)
{
	if(B.jobs == 0 && B.o.fanout == 0) return "none";
	return B.o.populate == POP_SQL ? "sql" : "api";
}

static void usage(FILE *f)
{
	fprintf(f,
		"usage: bench_jobs --scenario loop|update|cycle|get-pending|describe|fanout|slow-consumers|notify [options]\n"
		"  --clients N (100; fanout: 10)  --inflight K (1)  --qos 0|1 (1)  --threads N (1)\n"
		"  --seconds S (10; fanout: 3 before)  --warmup S (1)  --count N  --after S (fanout: 2)\n"
		"  --things T  --jobs-per-thing J  --access fixed|random  --populate sql|api\n"
		"  --fanout N  --fanout-via group|list  --payload BYTES (200)\n"
		"  slow-consumers: --devices N (5000)  --job-count M (150)  --interval S (1)  --offline\n"
		"  notify: --job-count M (200)  --interval S (0.1: a random gap of 0 to S between jobs)  --clients N (0)\n"
		"  --store postgresql://USER@HOST:PORT/DB: the plugin on that (empty) database  --brokers 1|2\n"
		"  --store-copy PATH (jobs-store-copy beside this program)  --db-pid PID: the database server's CPU\n"
		"  --broker-conf FILE: lines added to the generated mosquitto.conf (queue limits)\n"
		"  --mosquitto PATH (mosquitto)  --plugin PATH (mosquitto_jobs.so beside this program)  --no-plugin\n"
		"  --db DIR  --keep  --synchronous normal|full  --label TEXT\n"
		"  --no-access-options: leave out plugin_opt_other_topics/operators/grant_* (older plugins)\n"
		"  --host H --port P [--broker-pid PID]: use a running broker\n");
}

static void parse_args(int argc, char **argv, struct options *o)
{
	*o = (struct options){
		.mosquitto_bin = "mosquitto", .plugin = NULL, .synchronous = "normal",
		.scenario = SC_COUNT, .clients = -1, .inflight = 1, .qos = 1, .threads = 1, .payload = 200,
		.seconds = -1, .warmup = 1, .after = 2, .things = -1, .jobs_per_thing = -1, .label = "",
		.devices = 5000, .job_count = -1, .interval = -1, .brokers = 1,
	};
	for(int i = 1; i < argc; i++){
		const char *a = argv[i];
		if(strcmp(a, "--help") == 0 || strcmp(a, "-h") == 0){
			usage(stdout);
			exit(0);
		}
		if(strcmp(a, "--no-plugin") == 0){ o->no_plugin = true; continue; }
		if(strcmp(a, "--keep") == 0){ o->keep = true; continue; }
		if(strcmp(a, "--no-access-options") == 0){ o->no_access_options = true; continue; }
		if(strcmp(a, "--offline") == 0){ o->offline = true; continue; }
		if(i + 1 >= argc){
			usage(stderr);
			die("%s needs a value", a);
		}
		const char *v = argv[++i];
		if(strcmp(a, "--scenario") == 0){
			for(int s = 0; s < SC_COUNT; s++) if(strcmp(v, scenario_names[s]) == 0) o->scenario = (enum scenario)s;
			if(o->scenario == SC_COUNT) die("unknown scenario %s", v);
		}
		else if(strcmp(a, "--clients") == 0) o->clients = atoi(v);
		else if(strcmp(a, "--inflight") == 0) o->inflight = atoi(v);
		else if(strcmp(a, "--qos") == 0) o->qos = atoi(v);
		else if(strcmp(a, "--threads") == 0) o->threads = atoi(v);
		else if(strcmp(a, "--payload") == 0) o->payload = atoi(v);
		else if(strcmp(a, "--seconds") == 0) o->seconds = atof(v);
		else if(strcmp(a, "--warmup") == 0) o->warmup = atof(v);
		else if(strcmp(a, "--after") == 0) o->after = atof(v);
		else if(strcmp(a, "--count") == 0) o->count = atol(v);
		else if(strcmp(a, "--things") == 0) o->things = atol(v);
		else if(strcmp(a, "--jobs-per-thing") == 0) o->jobs_per_thing = atol(v);
		else if(strcmp(a, "--fanout") == 0) o->fanout = atol(v);
		else if(strcmp(a, "--devices") == 0) o->devices = atol(v);
		else if(strcmp(a, "--job-count") == 0) o->job_count = atol(v);
		else if(strcmp(a, "--interval") == 0) o->interval = atof(v);
		else if(strcmp(a, "--broker-conf") == 0) o->broker_conf = v;
		else if(strcmp(a, "--store") == 0) o->store = v;
		else if(strcmp(a, "--store-copy") == 0) o->store_copy = v;
		else if(strcmp(a, "--brokers") == 0) o->brokers = atoi(v);
		else if(strcmp(a, "--db-pid") == 0) o->db_pid = atoi(v);
		else if(strcmp(a, "--mosquitto") == 0) o->mosquitto_bin = v;
		else if(strcmp(a, "--plugin") == 0) o->plugin = v;
		else if(strcmp(a, "--db") == 0) o->db_dir = v;
		else if(strcmp(a, "--host") == 0) o->host = v;
		else if(strcmp(a, "--port") == 0) o->port = atoi(v);
		else if(strcmp(a, "--broker-pid") == 0) o->broker_pid = atoi(v);
		else if(strcmp(a, "--synchronous") == 0) o->synchronous = v;
		else if(strcmp(a, "--label") == 0) o->label = v;
		else if(strcmp(a, "--access") == 0){
			if(strcmp(v, "random") == 0) o->random_access = true;
			else if(strcmp(v, "fixed") == 0) o->random_access = false;
			else die("--access must be fixed or random");
		}else if(strcmp(a, "--populate") == 0){
			if(strcmp(v, "sql") == 0) o->populate = POP_SQL;
			else if(strcmp(v, "api") == 0) o->populate = POP_API;
			else die("--populate must be sql or api");
		}else if(strcmp(a, "--fanout-via") == 0){
			if(strcmp(v, "list") == 0) o->fanout_list = true;
			else if(strcmp(v, "group") == 0) o->fanout_list = false;
			else die("--fanout-via must be group or list");
		}else{
			usage(stderr);
			die("unknown option %s", a);
		}
	}
	if(o->scenario == SC_COUNT){
		usage(stderr);
		die("--scenario is required");
	}
	/* The plugin: beside this program (both live in the build folder) unless named;
	 * made absolute, as the broker's idea of the working folder may differ. */
	static char plugin_path[PATH_MAX], copy_path[PATH_MAX];
	char self[PATH_MAX];
	ssize_t self_len = readlink("/proc/self/exe", self, sizeof(self) - 1);
	if(self_len > 0){
		self[self_len] = '\0';
		*strrchr(self, '/') = '\0';
	}
	if(o->store && !o->store_copy){
		if(self_len <= 0) die("cannot find this program's folder; give --store-copy");
		snprintf(copy_path, sizeof(copy_path), "%.4000s/jobs-store-copy", self);
		o->store_copy = copy_path;
	}
	if(!o->plugin){
		if(self_len <= 0) die("cannot find this program's folder; give --plugin");
		snprintf(plugin_path, sizeof(plugin_path), "%.4000s/mosquitto_jobs.so", self);
		o->plugin = plugin_path;
	}else if(o->plugin[0] != '/'){
		char cwd[PATH_MAX];
		if(!getcwd(cwd, sizeof(cwd))) die("getcwd: %s", strerror(errno));
		snprintf(plugin_path, sizeof(plugin_path), "%.2000s/%.2000s", cwd, o->plugin);
		o->plugin = plugin_path;
	}
	if(o->fanout > 0) o->scenario = SC_FANOUT;
	if(o->scenario == SC_FANOUT && o->fanout <= 0) o->fanout = o->fanout_list ? 100 : 100000;
	/* the plugin, as AWS, takes at most 100 targets in one job: more things go in a group */
	if(o->fanout_list && o->fanout > 100) die("--fanout-via list takes at most --fanout 100 (a job's target limit)");
	if(o->clients < 0) o->clients = o->scenario == SC_FANOUT ? 10 : o->scenario == SC_NOTIFY ? 0 : 100;
	if(o->seconds < 0) o->seconds = o->scenario == SC_FANOUT ? 3 : 10;
	if(o->job_count < 0) o->job_count = o->scenario == SC_NOTIFY ? 200 : 150;
	if(o->interval < 0) o->interval = o->scenario == SC_NOTIFY ? 0.1 : 1;
	if(o->clients < (o->scenario == SC_NOTIFY ? 0 : 1) || o->inflight < 1 || o->inflight > MAX_INFLIGHT || o->qos < 0 || o->qos > 1
			|| o->threads < 1 || o->payload < 8 || o->seconds <= 0 || o->warmup < 0){
		die("bad --clients, --inflight (1-%d), --qos (0 or 1), --threads, --payload or --seconds", MAX_INFLIGHT);
	}
	if(o->threads > o->clients) o->threads = o->clients;
	if(o->brokers < 1 || o->brokers > MAX_BROKERS) die("--brokers takes 1 or %d", MAX_BROKERS);
	if(o->brokers > 1 && !o->store) die("--brokers 2 needs --store (brokers share a PostgreSQL database)");
	if(o->brokers > 1 && o->no_plugin) die("--brokers 2 goes with the plugin");
	if(o->store && o->host) die("--store goes with the brokers this program starts");
	if(o->store && strncmp(o->store, "postgresql://", 13) != 0 && strncmp(o->store, "postgres://", 11) != 0){
		die("--store takes a PostgreSQL URI (postgresql://USER@HOST:PORT/DB)");
	}
	if(o->scenario == SC_NOTIFY){
		if(o->job_count < 1 || o->job_count > 100000 || o->interval < 0) die("bad --job-count or --interval");
		if(o->host) die("notify needs the brokers this program starts");
	}
	if(strcmp(o->synchronous, "normal") != 0 && strcmp(o->synchronous, "full") != 0){
		die("--synchronous must be normal or full");
	}
	if(o->no_plugin && o->scenario != SC_LOOP) die("--no-plugin goes with --scenario loop only");
	if(o->random_access && (o->scenario == SC_CYCLE || o->scenario == SC_LOOP || o->scenario == SC_FANOUT)){
		die("--access random goes with update, get-pending and describe");
	}
	if(o->scenario == SC_SLOW){
		if(o->devices < 1 || o->devices > 1000000 || o->job_count < 1 || o->job_count > MAX_SECONDS
				|| o->interval < 0){
			die("bad --devices (1-1000000), --job-count (1-%d) or --interval", MAX_SECONDS);
		}
		if(o->host) die("slow-consumers needs the broker this program starts (its RSS is the figure)");
		o->populate = POP_SQL;
	}
	if(o->host && o->port <= 0) o->port = 1883;
	if(o->populate == POP_DEFAULT){
		o->populate = (o->host || o->scenario == SC_CYCLE) ? POP_API : POP_SQL;
	}
	if(o->host && o->populate == POP_SQL) die("--populate sql needs the broker this program starts");
}

static const char *make_dir(const struct options *o, char *dir, size_t size, bool *temp)
{
	if(o->db_dir){
		if(mkdir(o->db_dir, 0755) != 0 && errno != EEXIST) die("cannot use --db %s: %s", o->db_dir, strerror(errno));
		char cwd[PATH_MAX] = "";
		if(o->db_dir[0] != '/' && !getcwd(cwd, sizeof(cwd))) die("getcwd: %s", strerror(errno));
		snprintf(dir, size, "%.2000s%s%.2000s", cwd, cwd[0] ? "/" : "", o->db_dir);
		*temp = false;
		return dir;
	}
	const char *tmp = getenv("TMPDIR");
	snprintf(dir, size, "%s/bench-jobs-XXXXXX", tmp && *tmp ? tmp : "/tmp");
	if(!mkdtemp(dir)) die("mkdtemp: %s", strerror(errno));
	*temp = true;
	return dir;
}

static void remove_dir(const struct broker *b)
{
	remove_db_files(b->db);
	unlink(b->conf);
	unlink(b->log);
	rmdir(b->dir);
}

/* ---- slow-consumers: devices that subscribe, then never read ---- */

/* The members of the thing group FANOUT_GROUP (fan-0000000, ...) the setup creates. */
static long group_members(const struct options *o)
{
	if(o->scenario == SC_FANOUT && !o->fanout_list) return o->fanout;
	if(o->scenario == SC_SLOW) return o->devices;
	return 0;
}

/* Open files for `want` sockets, as far as the hard limit allows. */
static void raise_fd_limit(long want)
{
	struct rlimit r;
	if(getrlimit(RLIMIT_NOFILE, &r) != 0) return;
	if(r.rlim_cur != RLIM_INFINITY && (rlim_t)want > r.rlim_cur){
		r.rlim_cur = r.rlim_max == RLIM_INFINITY || (rlim_t)want < r.rlim_max ? (rlim_t)want : r.rlim_max;
		setrlimit(RLIMIT_NOFILE, &r);
	}
	if(getrlimit(RLIMIT_NOFILE, &r) == 0 && r.rlim_cur != RLIM_INFINITY && (rlim_t)want > r.rlim_cur){
		die("%ld devices need %ld open files; the limit is %lu (ulimit -n)", want - 100, want,
				(unsigned long)r.rlim_cur);
	}
}

static void mqtt_str(struct buf *b, const char *s)
{
	size_t n = strlen(s);
	buf_printf(b, "%c%c%s", (char)(n >> 8), (char)(n & 0xff), s);
}

/* A fixed header: type and flags, then the remaining length (at most 127 here). */
static void mqtt_packet(struct buf *out, unsigned char type, const struct buf *body)
{
	if(body->len > 127) die("MQTT packet too long");
	buf_printf(out, "%c%c", (char)type, (char)body->len);
	for(size_t i = 0; i < body->len; i++) buf_printf(out, "%c", body->p[i]);
}

/* One device, as a plain socket: MQTT 3.1.1 CONNECT (keepalive 0: the broker never
 * drops it for silence; a clean session, or with `persistent` one that outlives the
 * connection) and SUBSCRIBE to its notify and notify-next at QoS 1, both sent at
 * once; the answers are read by device_check. */
static int device_open(long index, bool persistent)
{
	int fd = socket(AF_INET, SOCK_STREAM, 0);
	struct sockaddr_in a = { .sin_family = AF_INET, .sin_port = htons((uint16_t)B.port) };
	a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	if(fd < 0 || connect(fd, (struct sockaddr *)&a, sizeof(a)) != 0){
		die("device %ld: cannot connect: %s", index, strerror(errno));
	}
	struct timeval tv = { 60, 0 };
	setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
	char id[32], topic[96];
	snprintf(id, sizeof(id), "fan-%07ld", index);
	struct buf body = { 0 }, out = { 0 };
	buf_printf(&body, "%c%cMQTT%c%c%c%c", 0, 4, 4, persistent ? 0 : 0x02, 0, 0);
	mqtt_str(&body, id);
	mqtt_packet(&out, 0x10, &body);
	body.len = 0;
	buf_printf(&body, "%c%c", 0, 1);
	snprintf(topic, sizeof(topic), "$aws/things/%s/jobs/notify", id);
	mqtt_str(&body, topic);
	buf_printf(&body, "%c", 1);
	snprintf(topic, sizeof(topic), "$aws/things/%s/jobs/notify-next", id);
	mqtt_str(&body, topic);
	buf_printf(&body, "%c", 1);
	mqtt_packet(&out, 0x82, &body);
	if(write(fd, out.p, out.len) != (ssize_t)out.len) die("device %ld: write: %s", index, strerror(errno));
	free(body.p);
	free(out.p);
	return fd;
}

/* CONNACK accepted (no session present), then SUBACK granting QoS 1 to both
 * topics; after that, the device's socket is never read again. */
static void device_check(int fd, long index)
{
	static const unsigned char want[10] = { 0x20, 2, 0, 0, 0x90, 4, 0, 1, 1, 1 };
	unsigned char got[10];
	size_t n = 0;
	while(n < sizeof(got)){
		ssize_t r = read(fd, got + n, sizeof(got) - n);
		if(r <= 0) die("device %ld: no CONNACK and SUBACK: %s", index, r < 0 ? strerror(errno) : "closed");
		n += (size_t)r;
	}
	if(memcmp(got, want, sizeof(want)) != 0){
		die("device %ld: refused (CONNACK %02x %02x, SUBACK %02x %02x)", index, got[2], got[3], got[8], got[9]);
	}
}

static long count_lines_with(const char *path, const char *needle)
{
	FILE *f = fopen(path, "r");
	if(!f) return -1;
	char line[1024];
	long n = 0;
	while(fgets(line, sizeof(line), f)) if(strstr(line, needle)) n++;
	fclose(f);
	return n;
}

/* N devices in one thing group subscribe to their notify topics and stop reading
 * (--offline: close their connections, leaving persistent sessions); the operator creates M jobs for the group, one per --interval seconds at most and
 * each once the previous one reached every device; the broker's RSS is read before
 * and after each job. */
static int slow_consumers(const struct options *o, struct broker *b)
{
	long n = o->devices, m = o->job_count;
	int *fds = malloc((size_t)n * sizeof(*fds));
	long *rss = calloc((size_t)m + 1, sizeof(*rss));
	double *at = calloc((size_t)m + 1, sizeof(*at));
	if(!fds || !rss || !at) die("out of memory");
	/* first: libmosquitto's mosquitto_loop uses select(), which takes file
	 * descriptors under 1024 only */
	struct operator op = { 0 };
	op_open(&op);
	uint64_t c0 = now_ns();
	/* a few hundred ahead: their answers wait in the sockets meanwhile */
	const long ahead = 256;
	for(long i = 0; i < n + ahead; i++){
		if(i < n) fds[i] = device_open(i, o->offline);
		if(i >= ahead){
			device_check(fds[i - ahead], i - ahead);
			if(o->offline){
				close(fds[i - ahead]);
				fds[i - ahead] = -1;
			}
		}
	}
	double connect_s = (double)(now_ns() - c0) / 1e9;
	sleep_ms(1000);
	long hwm = -1;
	proc_mem(B.broker_pid, &rss[0], &hwm);
	double cpu0 = proc_cpu_s(B.broker_pid);
	uint64_t t0 = now_ns(), next = t0;
	struct buf req = { 0 };
	for(long j = 1; j <= m; j++){
		sleep_until(next);
		uint64_t start = now_ns();
		next = start + (uint64_t)(o->interval * 1e9);
		char job[32];
		snprintf(job, sizeof(job), "slow-%05ld", j);
		req.len = 0;
		buf_printf(&req, "{\"commands\":[{\"command\":\"createJob\",\"jobId\":\"%s\",\"document\":%s,"
				"\"targets\":[\"" GROUP_ARN_PREFIX FANOUT_GROUP "\"]}]}", job, JOB_DOCUMENT);
		op_call(&op, req.p, req.len, 600);
		/* reached every member: its notifications are in the broker's queues, since
		 * the answer to describeJob is published after them */
		uint64_t deadline = start + 600 * NS_PER_S;
		while(describe_queued(&op, job) < n){
			if(now_ns() > deadline) die("job %s did not reach its %ld devices in 600 s", job, n);
			sleep_ms(20);
		}
		proc_mem(B.broker_pid, &rss[j], &hwm);
		at[j] = (double)(now_ns() - t0) / 1e9;
		fprintf(stderr, "# job %ld: %.1f s, broker RSS %.1f MB\n", j, at[j], (double)rss[j] / 1024);
	}
	free(req.p);
	double cpu = proc_cpu_s(B.broker_pid) - cpu0;
	long dropping = count_lines_with(b->log, "Outgoing messages are being dropped");
	op_close(&op);
	for(long i = 0; i < n; i++) if(fds[i] >= 0) close(fds[i]);

	/* growth per job over all jobs, and over the last 20 alone (the second half of
	 * fewer than 40): flat once the queues are full */
	long tail = m >= 40 ? 20 : m - m / 2;
	double per_job = (double)(rss[m] - rss[0]) / (double)m;
	double per_job_late = tail > 0 ? (double)(rss[m] - rss[m - tail]) / (double)tail : 0;
	printf("{");
	json_string(stdout, "scenario", scenario_names[o->scenario]);
	json_string(stdout, "label", o->label);
	json_string(stdout, "broker_conf", o->broker_conf ? o->broker_conf : "");
	printf("\"offline\":%s,\"devices\":%ld,\"jobs\":%ld,\"interval_s\":%.2f,\"connect_s\":%.2f,\"seconds\":%.2f,"
			"\"broker_cpu_s\":%.2f,\"rss_before_kb\":%ld,\"rss_after_kb\":%ld,\"broker_hwm_kb\":%ld,"
			"\"growth_per_job_kb\":%.0f,\"tail_jobs\":%ld,\"growth_per_job_tail_kb\":%.0f,\"dropping_clients\":%ld,"
			"\"rss_kb\":[", o->offline ? "true" : "false", n, m, o->interval, connect_s, at[m], cpu, rss[0], rss[m], hwm, per_job, tail,
			per_job_late, dropping);
	for(long j = 0; j <= m; j++) printf("%s%ld", j ? "," : "", rss[j]);
	printf("],\"at_s\":[");
	for(long j = 0; j <= m; j++) printf("%s%.2f", j ? "," : "", at[j]);
	printf("]}\n");
	printf("# slow-consumers %ld devices%s, %ld jobs in %.1f s%s%s: broker RSS %.1f MB before, %.1f MB after"
			" (peak %.1f MB); %.0f KB per job, %.0f KB per job over the last %ld; %ld clients dropped messages\n",
			n, o->offline ? " (offline, persistent sessions)" : "", m, at[m], o->broker_conf ? ", with " : ", Mosquitto's default queue limits",
			o->broker_conf ? o->broker_conf : "", (double)rss[0] / 1024, (double)rss[m] / 1024,
			(double)hwm / 1024, per_job, per_job_late, tail, dropping);
	fflush(stdout);
	broker_stop(b);
	if(b->temp_dir && !o->keep) remove_dir(b);
	free(fds);
	free(rss);
	free(at);
	mosquitto_lib_cleanup();
	return 0;
}

int main(int argc, char **argv)
{
	struct options *o = &B.o;
	parse_args(argc, argv, o);
	signal(SIGPIPE, SIG_IGN);
	mosquitto_lib_init();

	B.active = (long)o->clients * o->inflight;
	B.loopish = o->scenario == SC_LOOP || o->scenario == SC_FANOUT || o->scenario == SC_SLOW || o->scenario == SC_NOTIFY;
	B.nbrokers = o->host ? 1 : o->brokers;
	long default_jobs[SC_COUNT] = { [SC_UPDATE] = 1, [SC_DESCRIBE] = 1, [SC_GET_PENDING] = 10, [SC_CYCLE] = 300 };
	B.jobs = o->jobs_per_thing >= 0 ? o->jobs_per_thing : default_jobs[o->scenario];
	if(B.loopish) B.jobs = 0;
	if(!B.loopish && B.jobs < 1) die("--jobs-per-thing must be at least 1 for %s", scenario_names[o->scenario]);
	B.things = o->things > 0 ? o->things : B.active;
	if(o->populate == POP_API && !o->random_access) B.things = B.active; /* API jobs name the active things */
	if(B.things < 1) B.things = 1;
	if(B.things < B.active && !o->random_access) die("--things must be at least clients x inflight (%ld)", B.active);
	B.stride = o->random_access || B.active < 1 ? 1 : B.things / B.active;
	if(B.stride < 1) B.stride = 1;
	if(o->populate == POP_API && o->random_access) die("--access random needs --populate sql");

	/* The broker. */
	struct broker *b = &B.broker;
	double setup_s = 0;
	uint64_t setup0 = now_ns();
	if(o->host){
		B.host = o->host;
		B.port = o->port;
		B.broker_pid = o->broker_pid;
	}else{
		make_dir(o, b->dir, sizeof(b->dir), &b->temp_dir);
		if(b->temp_dir && !o->keep) snprintf(signal_dir, sizeof(signal_dir), "%s", b->dir);
		signal(SIGINT, on_signal);
		signal(SIGTERM, on_signal);
		snprintf(b->conf, sizeof(b->conf), "%s/mosquitto.conf", b->dir);
		snprintf(b->log, sizeof(b->log), "%s/mosquitto.log", b->dir);
		snprintf(b->db, sizeof(b->db), "%s/jobs.db", b->dir);
		remove_db_files(b->db);
		unlink(b->log);
		b->port = free_port();
		B.host = "127.0.0.1";
		B.port = b->port;
		bool sql = o->populate == POP_SQL && (B.jobs > 0 || group_members(o) > 0);
		if(sql){
			/* once to create the schema with the plugin's own migrations (SQLite) */
			broker_start(b, o, true, false);
			broker_stop(b);
			sql_populate(b->db, group_members(o));
			if(o->store){
				store_copy(o, b->db);
				remove_db_files(b->db);
			}
		}
		if(o->scenario == SC_SLOW) raise_fd_limit(o->devices + 100); /* the broker inherits it */
		broker_start(b, o, !o->no_plugin, true);
		B.broker_pid = b->pid;
		if(B.nbrokers > 1){
			struct broker *b2 = &B.broker2;
			b2->index = 1;
			snprintf(b2->dir, sizeof(b2->dir), "%s", b->dir);
			snprintf(b2->conf, sizeof(b2->conf), "%s/mosquitto-2.conf", b->dir);
			snprintf(b2->log, sizeof(b2->log), "%s/mosquitto-2.log", b->dir);
			snprintf(b2->db, sizeof(b2->db), "%s/jobs-2.db", b->dir);
			unlink(b2->log);
			b2->port = free_port();
			broker_start(b2, o, true, true);
			B.ports[1] = b2->port;
			B.broker_pids[1] = b2->pid;
		}
	}
	B.ports[0] = B.port;
	B.broker_pids[0] = B.broker_pid;
	if(o->scenario == SC_SLOW) return slow_consumers(o, b);
	if(o->populate == POP_API && (B.jobs > 0 || group_members(o) > 0)){
		struct operator setup_op = { 0 };
		op_open(&setup_op);
		api_populate(&setup_op, group_members(o));
		op_close(&setup_op);
	}
	setup_s = (double)(now_ns() - setup0) / 1e9;

	/* The clients. */
	atomic_store(&B.t1, UINT64_MAX);
	int nw = o->threads;
	struct worker *ws = calloc((size_t)nw + 1, sizeof(*ws));
	struct client *clients = calloc((size_t)o->clients + 1, sizeof(*clients));
	if(!ws || !clients) die("out of memory");
	for(int i = 0; i < o->clients; i++) clients[i].id = i;
	for(int i = 0; i < nw; i++){
		int from = (int)((long)o->clients * i / nw), to = (int)((long)o->clients * (i + 1) / nw);
		ws[i].index = i;
		ws[i].clients = clients + from;
		ws[i].nclients = to - from;
		ws[i].rng = 0x9E3779B97F4A7C15ULL ^ ((uint64_t)(i + 1) * 0xBF58476D1CE4E5B9ULL) ^ (uint64_t)getpid();
		if(pthread_create(&ws[i].thread, NULL, worker_main, &ws[i]) != 0) die("pthread_create failed");
	}
	uint64_t deadline = now_ns() + 30 * NS_PER_S;
	while(atomic_load(&B.ready) < o->clients && !atomic_load(&B.failed)){
		if(now_ns() > deadline) die("only %d of %d clients connected", atomic_load(&B.ready), o->clients);
		sleep_ms(5);
	}
	if(atomic_load(&B.failed)){
		for(int i = 0; i < nw; i++) pthread_join(ws[i].thread, NULL);
		for(int i = 0; i < nw; i++) if(ws[i].failure[0]) fprintf(stderr, "bench_jobs: %s\n", ws[i].failure);
		die("the clients could not start (an ACL refusal? see --no-access-options)");
	}

	struct operator op = { 0 };
	if(o->scenario == SC_FANOUT || o->scenario == SC_NOTIFY) op_open(&op);

	/* Go: warm up, then measure. */
	atomic_store(&B.go, 1);
	uint64_t t0 = now_ns() + (uint64_t)(o->warmup * 1e9);
	sleep_until(t0);
	double bcpus0[MAX_BROKERS];
	for(int i = 0; i < B.nbrokers; i++) bcpus0[i] = B.broker_pids[i] ? proc_cpu_s(B.broker_pids[i]) : -1;
	double bcpu0 = B.broker_pid ? proc_cpu_s(B.broker_pid) : -1;
	double dcpu0 = o->db_pid ? tree_cpu_s(o->db_pid) : -1;
	double scpu0 = self_cpu_s();
	double mbusy0 = machine_busy_s();
	double t0_wall = wall_s();
	atomic_store(&B.t0, t0);
	struct notify_figures nf = { 0 };
	struct span fan = { 0, 0 };
	uint64_t fan_answered = 0;
	double fan_cpu = -1;
	long fan_queued = -1, fan_polls = 0;
	if(o->scenario == SC_FANOUT){
		sleep_until(t0 + (uint64_t)(o->seconds * 1e9));
		struct buf req = { 0 };
		buf_printf(&req, "{\"commands\":[{\"command\":\"createJob\",\"jobId\":\"fanout-1\",\"document\":%s,\"targets\":[",
				JOB_DOCUMENT);
		if(o->fanout_list){
			for(long i = 0; i < o->fanout; i++) buf_printf(&req, "%s\"fan-%07ld\"", i ? "," : "", i);
		}else{
			buf_printf(&req, "\"" GROUP_ARN_PREFIX FANOUT_GROUP "\"");
		}
		buf_printf(&req, "]}]}");
		/* The job may queue its executions after answering (a large group goes through
		 * the job's queue, a bounded batch per tick): "all queued" is when the thing
		 * reached last (members go in name order) gets its notify-next, checked with
		 * describeJob; without that subscription, describeJob is polled. */
		char last[160];
		snprintf(last, sizeof(last), "$aws/things/fan-%07ld/jobs/notify-next", o->fanout - 1);
		bool watching = op_watch(&op, last);
		if(!watching) fprintf(stderr, "bench_jobs: cannot subscribe to %s; polling describeJob instead\n", last);
		double c0 = B.broker_pid ? proc_cpu_s(B.broker_pid) : -1;
		fan.from = now_ns();
		op_call(&op, req.p, req.len, 600);
		fan_answered = now_ns();
		uint64_t fan_deadline = fan.from + 1800 * NS_PER_S; /* 1M things at 30k/s: 33 s */
		while(watching && !op.watch_ns && now_ns() < fan_deadline){
			if(mosquitto_loop(op.mosq, 20, 1) != MOSQ_ERR_SUCCESS) die("operator: connection lost");
		}
		fan.to = op.watch_ns ? op.watch_ns : now_ns();
		for(;;){
			fan_queued = describe_queued(&op, "fanout-1");
			if(fan_queued >= o->fanout || now_ns() > fan_deadline) break;
			fan_polls++;
			sleep_ms(200);
			fan.to = now_ns();
		}
		if(B.broker_pid) fan_cpu = proc_cpu_s(B.broker_pid) - c0;
		free(req.p);
		sleep_until(fan.to + (uint64_t)(o->after * 1e9));
		atomic_store(&B.t1, now_ns());
	}else if(o->scenario == SC_NOTIFY){
		notify_run(o, &op, &nf);
		atomic_store(&B.t1, now_ns());
	}else if(o->count > 0){
		while(!atomic_load(&B.stop) && !atomic_load(&B.failed)) sleep_ms(2);
	}else{
		uint64_t end = t0 + (uint64_t)(o->seconds * 1e9);
		atomic_store(&B.t1, end); /* the workers stop counting there by themselves */
		for(uint64_t n; (n = now_ns()) < end && !atomic_load(&B.failed);){
			sleep_until(n + 5000000 < end ? n + 5000000 : end);
		}
	}
	uint64_t t1 = atomic_load(&B.t1);
	if(t1 == UINT64_MAX) t1 = now_ns();
	double bcpus1[MAX_BROKERS];
	for(int i = 0; i < B.nbrokers; i++) bcpus1[i] = B.broker_pids[i] ? proc_cpu_s(B.broker_pids[i]) : -1;
	double bcpu1 = B.broker_pid ? proc_cpu_s(B.broker_pid) : -1;
	double dcpu1 = o->db_pid ? tree_cpu_s(o->db_pid) : -1;
	double scpu1 = self_cpu_s();
	double mbusy1 = machine_busy_s();
	double t1_wall = wall_s() - (double)(now_ns() - t1) / 1e9;
	atomic_store(&B.stop, 1);
	for(int i = 0; i < nw; i++) pthread_join(ws[i].thread, NULL);
	for(int i = 0; i < nw; i++){
		if(ws[i].failure[0]) fprintf(stderr, "bench_jobs: %s\n", ws[i].failure);
	}
	if(atomic_load(&B.failed)){
		broker_stop(b);
		broker_stop(&B.broker2);
		die("the run failed");
	}
	if(o->scenario == SC_FANOUT){
		fan_queued = describe_queued(&op, "fanout-1");
		op_close(&op);
	}
	if(o->scenario == SC_NOTIFY) op_close(&op);
	long rss = -1, hwm = -1;
	if(B.broker_pid) proc_mem(B.broker_pid, &rss, &hwm);
	long db_bytes = 0, wal_bytes = 0;
	if(!o->host){
		char wal[PATH_MAX + 40];
		snprintf(wal, sizeof(wal), "%s-wal", b->db);
		db_bytes = file_size(b->db);
		wal_bytes = file_size(wal);
	}

	/* Figures. */
	long rts = 0, cycles = 0, rejected = 0, exhausted = 0, errors = 0, rts_by[MAX_BROKERS] = { 0 };
	const char *reject_example = NULL;
	for(int i = 0; i < nw; i++){
		rts += ws[i].rts;
		for(int k = 0; k < B.nbrokers; k++) rts_by[k] += ws[i].rts_by_broker[k];
		cycles += ws[i].cycles;
		rejected += ws[i].rejected;
		exhausted += ws[i].exhausted;
		errors += ws[i].errors;
		if(!reject_example && ws[i].first_reject[0]) reject_example = ws[i].first_reject;
	}
	double secs = (double)(t1 - t0) / 1e9;
	/* Round trips in each whole second of the window: shows drift and hiccups. */
	int whole = (int)secs < MAX_SECONDS ? (int)secs : MAX_SECONDS;
	long sec_min = -1, sec_max = -1;
	long *series = calloc((size_t)whole + 1, sizeof(*series));
	uint32_t *series_max = calloc((size_t)whole + 1, sizeof(*series_max));
	if(!series || !series_max) die("out of memory");
	for(int k = 0; k < whole; k++){
		for(int i = 0; i < nw; i++){
			series[k] += ws[i].per_second[k];
			if(ws[i].per_second_max[k] > series_max[k]) series_max[k] = ws[i].per_second_max[k];
		}
		if(sec_min < 0 || series[k] < sec_min) sec_min = series[k];
		if(series[k] > sec_max) sec_max = series[k];
	}
	struct stats all = select_stats(ws, nw, NULL, NULL);
	double bcpu = bcpu0 >= 0 && bcpu1 >= 0 ? bcpu1 - bcpu0 : -1;
	double bcpus[MAX_BROKERS];
	for(int i = 0; i < B.nbrokers; i++){
		bcpus[i] = bcpus0[i] >= 0 && bcpus1[i] >= 0 ? bcpus1[i] - bcpus0[i] : -1;
		if(i > 0 && bcpu >= 0) bcpu = bcpus[i] >= 0 ? bcpu + bcpus[i] : -1; /* all brokers together */
	}
	double dcpu = dcpu0 >= 0 && dcpu1 >= 0 ? dcpu1 - dcpu0 : -1;
	double scpu = scpu1 - scpu0;
	/* What other processes took meanwhile: this machine is shared. */
	double others = mbusy0 >= 0 && mbusy1 >= 0 && bcpu >= 0
		? (mbusy1 - mbusy0 - bcpu - scpu - (dcpu > 0 ? dcpu : 0)) / secs : -1;
	if(others < 0 && others > -0.05) others = 0;
	double per_1k = bcpu >= 0 && rts > 0 ? bcpu / ((double)rts / 1000.0) : -1;

	printf("{");
	json_string(stdout, "scenario", scenario_names[o->scenario]);
	json_string(stdout, "label", o->label);
	printf("\"qos\":%d,\"clients\":%d,\"inflight\":%d,\"threads\":%d,", o->qos, o->clients, o->inflight, o->threads);
	json_string(stdout, "synchronous", o->no_plugin || o->store ? "-" : o->synchronous);
	json_string(stdout, "store", o->no_plugin ? "-" : o->store ? "postgresql" : "sqlite");
	printf("\"brokers\":%d,\"t0_unix\":%.3f,\"t1_unix\":%.3f,", B.nbrokers, t0_wall, t1_wall);
	printf("\"plugin\":%s,\"things\":%ld,\"jobs_per_thing\":%ld,\"executions\":%ld,",
			o->no_plugin ? "false" : "true", B.things, B.jobs, B.jobs > 0 ? B.things * B.jobs : 0);
	json_string(stdout, "access", o->random_access ? "random" : "fixed");
	json_string(stdout, "populate", populate_name());
	printf("\"setup_s\":%.2f,\"seconds\":%.3f,\"round_trips\":%ld,\"rt_per_s\":%.1f,", setup_s, secs, rts,
			(double)rts / secs);
	if(o->scenario == SC_CYCLE) printf("\"cycles\":%ld,\"cycles_per_s\":%.1f,\"exhausted_slots\":%ld,", cycles,
			(double)cycles / secs, exhausted);
	printf("\"p50_us\":%u,\"p99_us\":%u,\"max_us\":%u,\"mean_us\":%.0f,", all.p50, all.p99, all.max, all.mean);
	printf("\"rejected\":%ld,\"errors\":%ld,\"rt_per_s_min\":%ld,\"rt_per_s_max\":%ld,\"per_second\":[", rejected,
			errors, sec_min, sec_max);
	for(int k = 0; k < whole; k++) printf("%s%ld", k ? "," : "", series[k]);
	printf("],\"per_second_max_us\":[");
	for(int k = 0; k < whole; k++) printf("%s%u", k ? "," : "", series_max[k]);
	printf("],");
	free(series);
	free(series_max);
	printf("\"broker_cpu_s\":%.3f,\"broker_cpu_s_per_1k\":%.5f,\"broker_cpu_util\":%.3f,", bcpu, per_1k,
			bcpu >= 0 ? bcpu / secs : -1);
	printf("\"bench_cpu_s\":%.3f,\"bench_cpu_util\":%.3f,\"others_cpu_util\":%.2f,\"cores\":%ld,", scpu,
			scpu / secs, others, sysconf(_SC_NPROCESSORS_ONLN));
	printf("\"broker_rss_kb\":%ld,\"broker_hwm_kb\":%ld,\"db_bytes\":%ld,\"wal_bytes\":%ld", rss, hwm, db_bytes, wal_bytes);
	printf(",\"db_cpu_s\":%.3f,\"db_cpu_s_per_1k\":%.5f,\"db_cpu_util\":%.3f", dcpu,
			dcpu >= 0 && rts > 0 ? dcpu / ((double)rts / 1000.0) : -1, dcpu >= 0 ? dcpu / secs : -1);
	/* each broker: the round trips of its clients, and its own CPU */
	printf(",\"per_broker\":[");
	for(int i = 0; i < B.nbrokers; i++){
		long brss = -1, bhwm = -1;
		if(B.broker_pids[i]) proc_mem(B.broker_pids[i], &brss, &bhwm);
		printf("%s{\"rt_per_s\":%.1f,\"broker_cpu_s\":%.3f,\"broker_cpu_s_per_1k\":%.5f,\"broker_cpu_util\":%.3f,"
				"\"broker_rss_kb\":%ld}", i ? "," : "", (double)rts_by[i] / secs, bcpus[i],
				bcpus[i] >= 0 && rts_by[i] > 0 ? bcpus[i] / ((double)rts_by[i] / 1000.0) : -1,
				bcpus[i] >= 0 ? bcpus[i] / secs : -1, brss);
	}
	printf("]");
	struct stats nstat[MAX_BROKERS] = { { 0 } }, nanswer = { 0 };
	if(o->scenario == SC_NOTIFY){
		for(int i = 0; i < B.nbrokers; i++) nstat[i] = stats_of(nf.lat[i], nf.n[i]);
		nanswer = stats_of(nf.answer, (size_t)nf.jobs);
		printf(",\"notify_jobs\":%ld,\"interval_s\":%.3f,\"create_answer_p50_us\":%u,\"create_answer_p99_us\":%u,"
				"\"create_answer_max_us\":%u,\"notify\":[", nf.jobs, o->interval, nanswer.p50, nanswer.p99, nanswer.max);
		for(int i = 0; i < B.nbrokers; i++){
			printf("%s{\"device_on\":%d,\"received\":%zu,\"missed\":%ld,\"p50_us\":%u,\"p99_us\":%u,\"max_us\":%u,"
					"\"mean_us\":%.0f}", i ? "," : "", i, nstat[i].n, nf.missed[i], nstat[i].p50, nstat[i].p99,
					nstat[i].max, nstat[i].mean);
		}
		printf("]");
	}
	struct stats base = { 0 }, during = { 0 }, later = { 0 };
	if(o->scenario == SC_FANOUT){
		base = select_stats(ws, nw, before, &fan);
		during = select_stats(ws, nw, overlaps, &fan);
		later = select_stats(ws, nw, after, &fan);
		double q = (double)(fan.to - fan.from) / 1e9;
		printf(",\"fanout\":%ld,", o->fanout);
		json_string(stdout, "fanout_via", o->fanout_list ? "list" : "group");
		printf("\"fanout_response_s\":%.3f,\"fanout_describe_polls\":%ld,",
				(double)(fan_answered - fan.from) / 1e9, fan_polls);
		printf("\"fanout_queue_s\":%.3f,\"fanout_exec_per_s\":%.0f,\"fanout_queued_verified\":%ld,"
				"\"fanout_broker_cpu_s\":%.3f,"
				"\"base_p50_us\":%u,\"base_p99_us\":%u,\"base_max_us\":%u,"
				"\"during_n\":%zu,\"during_p50_us\":%u,\"during_p99_us\":%u,\"during_max_us\":%u,"
				"\"after_p50_us\":%u,\"after_p99_us\":%u,\"after_max_us\":%u",
				q, (double)o->fanout / q, fan_queued, fan_cpu, base.p50, base.p99, base.max,
				during.n, during.p50, during.p99, during.max, later.p50, later.p99, later.max);
	}
	printf("}\n");

	if(o->scenario == SC_NOTIFY){
		printf("# notify, %s store, %d broker%s, %ld jobs (a random gap of 0 to %.2f s), %d loop clients:"
				" createJob answered p50 %u us, p99 %u us", o->store ? "PostgreSQL" : "SQLite", B.nbrokers,
				B.nbrokers > 1 ? "s" : "", nf.jobs, o->interval, o->clients, nanswer.p50, nanswer.p99);
		for(int i = 0; i < B.nbrokers; i++){
			printf("; notify-next on a device of broker %c: p50 %u us, p99 %u us, max %u us (%ld missed)", 'A' + i,
					nstat[i].p50, nstat[i].p99, nstat[i].max, nf.missed[i]);
		}
		printf("; broker CPU %.2f s, database %.2f s\n", bcpu, dcpu);
	}else if(o->scenario == SC_FANOUT){
		printf("# fanout %ld things via %s: createJob answered in %.2f s, all queued in %.2f s (%.0f executions/s,"
				" broker CPU %.2f s), verified %ld;"
				" %d loop clients: before p99 %u us max %u us | during (%zu round trips) p99 %u us max %u us |"
				" after p99 %u us max %u us; broker RSS %.1f MB (peak %.1f MB)\n",
				o->fanout, o->fanout_list ? "list" : "group", (double)(fan_answered - fan.from) / 1e9,
				(double)(fan.to - fan.from) / 1e9,
				(double)o->fanout / ((double)(fan.to - fan.from) / 1e9), fan_cpu, fan_queued, o->clients,
				base.p99, base.max, during.n, during.p99, during.max, later.p99, later.max,
				(double)rss / 1024, (double)hwm / 1024);
	}else{
		char extra[128] = "";
		if(o->scenario == SC_CYCLE){
			snprintf(extra, sizeof(extra), " (%.0f cycles/s%s)", (double)cycles / secs,
					exhausted ? ", some things ran out of jobs" : "");
		}
		printf("# %s%s qos %d, %d clients x %d in flight, %s%s, %ld things x %ld jobs (%s, %s):"
				" %.0f round trips/s%s, p50 %u us, p99 %u us, max %u us; broker %.3f CPU-s per 1000"
				" (%.0f%% of a core), bench %.0f%% of a core, other processes %.0f%%; broker RSS %.1f MB\n",
				scenario_names[o->scenario], o->no_plugin ? " (no plugin)" : "", o->qos, o->clients, o->inflight,
				o->store ? "PostgreSQL store, brokers " : "synchronous ",
				o->store ? (B.nbrokers > 1 ? "2" : "1") : o->synchronous, B.things, B.jobs, o->random_access ? "random" : "fixed", populate_name(),
				(double)rts / secs, extra, all.p50, all.p99, all.max, per_1k, bcpu / secs * 100,
				scpu / secs * 100, others * 100, (double)rss / 1024);
		if(o->store || B.nbrokers > 1){
			printf("#   %s store", o->store ? "PostgreSQL" : "SQLite");
			for(int i = 0; i < B.nbrokers; i++){
				printf("; broker %c: %.0f round trips/s, %.3f CPU-s per 1000", 'A' + i, (double)rts_by[i] / secs,
						bcpus[i] >= 0 && rts_by[i] > 0 ? bcpus[i] / ((double)rts_by[i] / 1000.0) : -1);
			}
			if(dcpu >= 0) printf("; database server %.3f CPU-s per 1000 (%.0f%% of a core)", rts ? dcpu / ((double)rts / 1000.0) : -1,
					dcpu / secs * 100);
			printf("\n");
		}
	}
	if(rejected) fprintf(stderr, "bench_jobs: %ld rejected replies, e.g. %s\n", rejected, reject_example);
	if(errors) fprintf(stderr, "bench_jobs: %ld unexpected messages or failed publishes\n", errors);
	if(exhausted) fprintf(stderr, "bench_jobs: %ld slots ran out of jobs (raise --jobs-per-thing)\n", exhausted);
	fflush(stdout);

	if(!o->host){
		broker_stop(b);
		if(B.nbrokers > 1){
			broker_stop(&B.broker2);
			if(b->temp_dir && !o->keep){
				remove_db_files(B.broker2.db);
				unlink(B.broker2.conf);
				unlink(B.broker2.log);
			}
		}
		if(b->temp_dir && !o->keep) remove_dir(b);
	}
	for(int i = 0; i < MAX_BROKERS; i++) free(nf.lat[i]);
	free(nf.answer);
	for(int i = 0; i < nw; i++) free(ws[i].samples);
	free(ws);
	free(clients);
	mosquitto_lib_cleanup();
	return rejected || errors ? 2 : 0;
}
