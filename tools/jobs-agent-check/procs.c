/* The agent's process (--agent-cmd, one per scenario, its output kept in the kit's
 * private folder) and the broker the kit starts itself (--start-broker). */
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <pwd.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <mosquitto.h>

#include "check.h"

#define OUTPUT_KEPT 8192

static void sleep_ms(int ms)
{
	struct timespec ts = { ms / 1000, (long)(ms % 1000) * 1000000L };
	nanosleep(&ts, NULL);
}

static void describe_status(int status, char *out, size_t n)
{
	if(WIFEXITED(status)) snprintf(out, n, "exited with status %d", WEXITSTATUS(status));
	else if(WIFSIGNALED(status)) snprintf(out, n, "killed by signal %d (%s)", WTERMSIG(status), strsignal(WTERMSIG(status)));
	else snprintf(out, n, "ended (status %d)", status);
}

/* Appends `s` to the growing command line. */
static bool append(char **buf, size_t *len, size_t *cap, const char *s, size_t n)
{
	if(*len + n + 1 > *cap){
		size_t c = (*len + n + 1) * 2;
		char *b = realloc(*buf, c);
		if(!b) return false;
		*buf = b;
		*cap = c;
	}
	memcpy(*buf + *len, s, n);
	*len += n;
	(*buf)[*len] = '\0';
	return true;
}

/* The command with {thing}, {host} and {port} replaced (thing names and ports need
 * no quoting: [a-zA-Z0-9:_-]; the host is quoted for the shell). */
static char *expand(const struct kit *k, const char *cmd)
{
	char *buf = NULL;
	size_t len = 0, cap = 0;
	char port[16], host[300];
	snprintf(port, sizeof(port), "%d", k->o.port);
	snprintf(host, sizeof(host), "'%s'", k->o.host ? k->o.host : JOBSCTL_DEFAULT_HOST);
	if(!append(&buf, &len, &cap, "", 0)) return NULL;
	for(const char *p = cmd; *p;){
		const char *sub = NULL;
		size_t skip = 0;
		if(strncmp(p, "{thing}", 7) == 0) sub = k->thing, skip = 7;
		else if(strncmp(p, "{host}", 6) == 0) sub = host, skip = 6;
		else if(strncmp(p, "{port}", 6) == 0) sub = port, skip = 6;
		bool ok = sub ? append(&buf, &len, &cap, sub, strlen(sub)) : append(&buf, &len, &cap, p, 1);
		if(!ok){
			free(buf);
			return NULL;
		}
		p += sub ? skip : 1;
	}
	return buf;
}

bool agent_start(struct kit *k, const char *scenario, char *err, size_t errsize)
{
	char *cmd = expand(k, k->agent_cmd);
	if(!cmd){
		snprintf(err, errsize, "out of memory");
		return false;
	}
	snprintf(k->agent_log, sizeof(k->agent_log), "%s/agent-%u-%s.log", k->tmpdir, ++k->agent_runs, scenario);
	int fd = open(k->agent_log, O_WRONLY | O_CREAT | O_TRUNC, 0600);
	if(fd < 0){
		snprintf(err, errsize, "cannot create %s: %s", k->agent_log, strerror(errno));
		free(cmd);
		return false;
	}
	fflush(NULL);
	pid_t pid = fork();
	if(pid == 0){
		setpgid(0, 0);
		dup2(fd, 1);
		dup2(fd, 2);
		int devnull = open("/dev/null", O_RDONLY);
		if(devnull >= 0) dup2(devnull, 0);
		execl("/bin/sh", "sh", "-c", cmd, (char *)NULL);
		_exit(127);
	}
	close(fd);
	free(cmd);
	if(pid < 0){
		snprintf(err, errsize, "cannot start the agent: %s", strerror(errno));
		return false;
	}
	setpgid(pid, pid);
	k->agent_pid = pid;
	k->agent_exited = false;
	k->agent_exit[0] = '\0';
	return true;
}

bool agent_poll(struct kit *k)
{
	if(k->agent_pid <= 0) return false;
	if(k->agent_exited) return false;
	int status;
	if(waitpid(k->agent_pid, &status, WNOHANG) == k->agent_pid){
		k->agent_exited = true;
		describe_status(status, k->agent_exit, sizeof(k->agent_exit));
		return false;
	}
	return true;
}

/* The last OUTPUT_KEPT bytes of the agent's output. */
static char *read_tail(const char *path)
{
	FILE *f = fopen(path, "rb");
	if(!f) return NULL;
	fseek(f, 0, SEEK_END);
	long size = ftell(f);
	long from = size > OUTPUT_KEPT ? size - OUTPUT_KEPT : 0;
	fseek(f, from, SEEK_SET);
	char *buf = malloc((size_t)(size - from) + 1);
	size_t got = buf ? fread(buf, 1, (size_t)(size - from), f) : 0;
	if(buf) buf[got] = '\0';
	fclose(f);
	return buf;
}

void agent_stop(struct kit *k, struct result *r)
{
	if(k->agent_pid <= 0) return;
	if(agent_poll(k)){
		kill(-k->agent_pid, SIGTERM);
		int status = 0;
		bool gone = false;
		for(int i = 0; i < 50 && !gone; i++){
			gone = waitpid(k->agent_pid, &status, WNOHANG) == k->agent_pid;
			if(!gone) sleep_ms(50);
		}
		if(!gone){
			kill(-k->agent_pid, SIGKILL);
			waitpid(k->agent_pid, &status, 0);
			snprintf(r->agent_status, sizeof(r->agent_status), "ran to the end of the scenario; did not stop "
					"within 2.5 s of SIGTERM (killed)");
		}else{
			char how[100];
			describe_status(status, how, sizeof(how));
			snprintf(r->agent_status, sizeof(r->agent_status), "ran to the end of the scenario; then its "
					"process group was sent SIGTERM: %s", how);
		}
	}else{
		snprintf(r->agent_status, sizeof(r->agent_status), "%s during the scenario", k->agent_exit);
	}
	kill(-k->agent_pid, SIGKILL);  /* whatever it left behind in its process group */
	k->agent_pid = 0;
	free(r->agent_output);
	r->agent_output = read_tail(k->agent_log);
}

/* A free loopback port. */
static int free_port(void)
{
	int s = socket(AF_INET, SOCK_STREAM, 0);
	struct sockaddr_in a = { .sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK) };
	socklen_t len = sizeof(a);
	int port = 0;
	if(s >= 0 && bind(s, (struct sockaddr *)&a, sizeof(a)) == 0 && getsockname(s, (struct sockaddr *)&a, &len) == 0){
		port = ntohs(a.sin_port);
	}
	if(s >= 0) close(s);
	return port;
}

bool broker_start(struct kit *k, char *err, size_t errsize)
{
	char conf[300], log[300];
	snprintf(conf, sizeof(conf), "%s/mosquitto.conf", k->tmpdir);
	snprintf(log, sizeof(log), "%s/mosquitto.log", k->tmpdir);
	if(!k->broker_port){
		k->broker_port = free_port();
		if(!k->broker_port){
			snprintf(err, errsize, "cannot find a free port");
			return false;
		}
		struct passwd *pw = getpwuid(getuid());
		FILE *f = fopen(conf, "w");
		if(!f){
			snprintf(err, errsize, "cannot write %s: %s", conf, strerror(errno));
			return false;
		}
		fprintf(f, "listener %d 127.0.0.1\nallow_anonymous true\n%s%s%s"
				"plugin %s\nplugin_opt_db_path %s/jobs.db\nplugin_opt_operators *\n"
				"plugin_opt_test_controls on\n", k->broker_port, pw ? "user " : "", pw ? pw->pw_name : "",
				pw ? "\n" : "", k->plugin, k->tmpdir);
		fclose(f);
	}
	fflush(NULL);
	pid_t pid = fork();
	if(pid == 0){
		int fd = open(log, O_WRONLY | O_CREAT | O_APPEND, 0600);
		if(fd >= 0){
			dup2(fd, 1);
			dup2(fd, 2);
		}
		setpgid(0, 0);
		execlp(k->mosquitto, k->mosquitto, "-c", conf, (char *)NULL);
		fprintf(stderr, "cannot run %s: %s\n", k->mosquitto, strerror(errno));
		_exit(127);
	}
	if(pid < 0){
		snprintf(err, errsize, "cannot start mosquitto: %s", strerror(errno));
		return false;
	}
	k->broker_pid = pid;
	free(k->o.host);
	k->o.host = strdup("127.0.0.1");
	k->o.port = k->broker_port;
	/* Ready when it answers: the operator's connection. */
	double until = mono_now() + 15;
	while(mono_now() < until){
		int status;
		if(waitpid(pid, &status, WNOHANG) == pid){
			k->broker_pid = 0;
			snprintf(err, errsize, "mosquitto exited at start (see %s)", log);
			return false;
		}
		char e2[300];
		if(ctl_connect(k, 0.5, false, e2, sizeof(e2))) return true;
		sleep_ms(100);
	}
	snprintf(err, errsize, "mosquitto did not accept connections within 15 s (see %s)", log);
	return false;
}

void broker_stop(struct kit *k)
{
	ctl_disconnect(k);
	if(k->broker_pid <= 0) return;
	kill(k->broker_pid, SIGTERM);
	int status;
	for(int i = 0; i < 200; i++){
		if(waitpid(k->broker_pid, &status, WNOHANG) == k->broker_pid){
			k->broker_pid = 0;
			return;
		}
		sleep_ms(50);
	}
	kill(k->broker_pid, SIGKILL);
	waitpid(k->broker_pid, &status, 0);
	k->broker_pid = 0;
}

void remove_tmpdir(struct kit *k)
{
	if(!k->tmpdir[0]) return;
	pid_t pid = fork();
	if(pid == 0){
		execlp("rm", "rm", "-rf", k->tmpdir, (char *)NULL);
		_exit(127);
	}
	if(pid > 0) waitpid(pid, NULL, 0);
}

void kit_pump(struct kit *k, int ms)
{
	double until = mono_now() + ms / 1000.0;
	do{
		if(k->mosq && k->connected){
			if(mosquitto_loop(k->mosq, 20, 1) != MOSQ_ERR_SUCCESS) k->connected = false;
		}else{
			struct timespec ts = { 0, 20 * 1000000L };
			nanosleep(&ts, NULL);
		}
	}while(mono_now() < until);
	char err[300];
	ctl_fetch_transcript(k, err, sizeof(err));
	agent_poll(k);
}
