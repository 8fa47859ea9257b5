/* The reports: JUnit XML (one testcase per scenario, the reason and the transcript
 * as the failure's text) and one self-contained HTML page (no scripts, no network)
 * with the summary and, per scenario, the exchange as an SVG sequence diagram. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "check.h"

#define DIAGRAM_MAX 300   /* entries drawn per scenario */
#define ROW 26

/* Writes s escaped for XML/HTML text and attributes; at most `max` bytes of it
 * (0: all). Control characters XML cannot carry become '?'. */
static void esc(FILE *f, const char *s, size_t max)
{
	size_t n = 0;
	for(; s && *s && (!max || n < max); s++, n++){
		unsigned char c = (unsigned char)*s;
		switch(c){
		case '&': fputs("&amp;", f); break;
		case '<': fputs("&lt;", f); break;
		case '>': fputs("&gt;", f); break;
		case '"': fputs("&quot;", f); break;
		case '\'': fputs("&#39;", f); break;
		default:
			if(c < 0x20 && c != '\n' && c != '\t') fputc('?', f);
			else fputc(c, f);
		}
	}
	if(s && *s) fputs("...", f);
}

static const char *verdict_name(enum verdict v)
{
	return v == V_PASS ? "PASS" : v == V_FAIL ? "FAIL" : "SKIP";
}

/* The part of the topic after the thing's jobs prefix. */
static const char *short_topic(const char *topic)
{
	const char *p = strstr(topic, "/jobs/");
	return p ? p + 6 : topic;
}

/* A few words about an entry's payload: a status, a code, the execution named. */
static void payload_summary(const struct tentry *e, char *out, size_t n)
{
	const cJSON *status = cJSON_GetObjectItemCaseSensitive(e->body, "status");
	const cJSON *code = cJSON_GetObjectItemCaseSensitive(e->body, "code");
	const cJSON *ex = cJSON_GetObjectItemCaseSensitive(e->body, "execution");
	const cJSON *id = cJSON_GetObjectItemCaseSensitive(ex, "jobId");
	const cJSON *num = cJSON_GetObjectItemCaseSensitive(ex, "executionNumber");
	const cJSON *step = cJSON_GetObjectItemCaseSensitive(e->body, "stepTimeoutInMinutes");
	out[0] = '\0';
	if(cJSON_IsString(status)) snprintf(out, n, "%s%s", status->valuestring, step ? " +step" : "");
	else if(cJSON_IsString(code)) snprintf(out, n, "%s", code->valuestring);
	else if(cJSON_IsString(id)) snprintf(out, n, "%s #%d", id->valuestring, cJSON_IsNumber(num) ? num->valueint : 0);
	else if(!e->in && (e->op == T_START_NEXT || e->op == T_NOTIFY_NEXT || e->op == T_DESCRIBE) && e->reply >= 0) snprintf(out, n, "(nothing pending)");
}

static void write_transcript_text(FILE *f, const struct transcript *t)
{
	double t0 = t->n ? t->e[0].at : 0;
	for(size_t i = 0; i < t->n; i++){
		const struct tentry *e = &t->e[i];
		fprintf(f, "+%8.3f s %s ", (e->at - t0) / 1000.0, e->in ? "agent -> broker" : "broker -> agent");
		esc(f, e->topic, 0);
		if(e->fault[0]){
			fputs(" [fault: ", f);
			esc(f, e->fault, 0);
			fputs("]", f);
		}
		fputs(" ", f);
		esc(f, e->payload, 400);
		fputs("\n", f);
	}
	if(t->dropped) fprintf(f, "(%lld entries not kept: the transcript's bounds)\n", t->dropped);
}

bool report_junit(const char *path, const struct result *rs, size_t n, double total)
{
	FILE *f = fopen(path, "w");
	if(!f) return false;
	size_t failures = 0, skipped = 0;
	for(size_t i = 0; i < n; i++){
		failures += rs[i].verdict == V_FAIL;
		skipped += rs[i].verdict == V_SKIP;
	}
	fprintf(f, "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<testsuites>\n"
			"<testsuite name=\"jobs-agent-check\" tests=\"%zu\" failures=\"%zu\" errors=\"0\" skipped=\"%zu\" time=\"%.3f\">\n",
			n, failures, skipped, total);
	for(size_t i = 0; i < n; i++){
		const struct result *r = &rs[i];
		fprintf(f, "<testcase classname=\"jobs-agent-check\" name=\"%s\" time=\"%.3f\">\n", r->s->name, r->seconds);
		if(r->verdict == V_FAIL){
			fputs("<failure message=\"", f);
			esc(f, r->reason, 0);
			fputs("\">", f);
			esc(f, r->s->criterion, 0);
			fputs("\n\nTranscript:\n", f);
			write_transcript_text(f, &r->tr);
			fputs("</failure>\n", f);
		}else if(r->verdict == V_SKIP){
			fputs("<skipped message=\"", f);
			esc(f, r->reason, 0);
			fputs("\"/>\n", f);
		}
		if(r->agent_output || r->agent_status[0]){
			fputs("<system-out>", f);
			if(r->agent_status[0]){
				fputs("The agent ", f);
				esc(f, r->agent_status, 0);
				fputs(".\n", f);
			}
			esc(f, r->agent_output, 0);
			fputs("</system-out>\n", f);
		}
		fputs("</testcase>\n", f);
	}
	fputs("</testsuite>\n</testsuites>\n", f);
	return fclose(f) == 0;
}

static void write_diagram(FILE *f, const struct transcript *t)
{
	const int ax = 110, bx = 790, width = 900;
	size_t rows = t->n < DIAGRAM_MAX ? t->n : DIAGRAM_MAX;
	int height = 50 + (int)rows * ROW + 20;
	fprintf(f, "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"%d\" height=\"%d\" viewBox=\"0 0 %d %d\" "
			"role=\"img\" aria-label=\"sequence diagram\">\n", width, height, width, height);
	fputs("<defs><marker id=\"arr\" viewBox=\"0 0 10 10\" refX=\"10\" refY=\"5\" markerWidth=\"7\" markerHeight=\"7\" "
			"orient=\"auto-start-reverse\"><path d=\"M0,0 L10,5 L0,10 z\" fill=\"context-stroke\"/></marker></defs>\n", f);
	fprintf(f, "<text x=\"%d\" y=\"18\" text-anchor=\"middle\" class=\"life\">agent</text>"
			"<text x=\"%d\" y=\"18\" text-anchor=\"middle\" class=\"life\">broker</text>\n", ax, bx);
	fprintf(f, "<line x1=\"%d\" y1=\"26\" x2=\"%d\" y2=\"%d\" class=\"lifeline\"/>"
			"<line x1=\"%d\" y1=\"26\" x2=\"%d\" y2=\"%d\" class=\"lifeline\"/>\n", ax, ax, height - 5, bx, bx, height - 5);
	double t0 = t->n ? t->e[0].at : 0;
	for(size_t i = 0; i < rows; i++){
		const struct tentry *e = &t->e[i];
		int y = 50 + (int)i * ROW;
		const char *cls = e->fault[0] ? "fault" : e->in ? "in" : e->reply < 0 ? "rej" : "out";
		fprintf(f, "<g class=\"%s\"><title>", cls);
		esc(f, e->topic, 0);
		fputs(" ", f);
		esc(f, e->payload, 1500);
		fputs("</title>", f);
		fprintf(f, "<text x=\"4\" y=\"%d\" class=\"time\">+%.3f s</text>", y + 4, (e->at - t0) / 1000.0);
		int x1 = e->in ? ax : bx, x2 = e->in ? bx : ax;
		fprintf(f, "<line x1=\"%d\" y1=\"%d\" x2=\"%d\" y2=\"%d\" marker-end=\"url(#arr)\"%s/>", x1, y, x2 + (e->in ? -2 : 2), y,
				e->fault[0] && strcmp(e->fault, "drop") == 0 ? " stroke-dasharray=\"6 4\"" : "");
		char summary[200];
		payload_summary(e, summary, sizeof(summary));
		fprintf(f, "<text x=\"%d\" y=\"%d\" text-anchor=\"middle\">", (ax + bx) / 2, y - 4);
		esc(f, short_topic(e->topic), 120);
		if(summary[0]){
			fputs("  ", f);
			esc(f, summary, 0);
		}
		if(e->fault[0]){
			fputs("  [fault: ", f);
			esc(f, e->fault, 0);
			fputs("]", f);
		}
		fputs("</text></g>\n", f);
	}
	if(t->n > rows){
		fprintf(f, "<text x=\"%d\" y=\"%d\" text-anchor=\"middle\">... %zu more entries (see the JUnit report)</text>\n",
				(ax + bx) / 2, height - 8, t->n - rows);
	}
	fputs("</svg>\n", f);
}

bool report_html(const char *path, const struct kit *k, const struct result *rs, size_t n, double total)
{
	FILE *f = fopen(path, "w");
	if(!f) return false;
	size_t counts[3] = { 0, 0, 0 };
	for(size_t i = 0; i < n; i++) counts[rs[i].verdict]++;
	char when[64];
	time_t now = time(NULL);
	strftime(when, sizeof(when), "%Y-%m-%d %H:%M:%S UTC", gmtime(&now));
	fputs("<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">\n<title>jobs-agent-check: ", f);
	esc(f, k->thing, 0);
	fputs("</title>\n<style>\n"
		"body{font-family:sans-serif;margin:1.5em;color:#222}\n"
		"table{border-collapse:collapse}td,th{border:1px solid #ccc;padding:.25em .6em;text-align:left;vertical-align:top}\n"
		".PASS{color:#fff;background:#2a7d2a}.FAIL{color:#fff;background:#b3261e}.SKIP{color:#222;background:#ddd}\n"
		".verdict{font-weight:bold;padding:.1em .5em;border-radius:3px}\n"
		"section{margin-top:2em;border-top:1px solid #ccc}\n"
		"svg{font-size:12px;font-family:monospace;background:#fafafa;border:1px solid #eee}\n"
		"svg .life{font-weight:bold;font-size:14px}svg .lifeline{stroke:#999;stroke-dasharray:2 3}\n"
		"svg line{stroke-width:1.5}svg .in line{stroke:#1f5fa8}svg .out line{stroke:#444}svg .rej line{stroke:#b36b00}\n"
		"svg .fault line{stroke:#b3261e}svg .fault text{fill:#b3261e}svg .time{fill:#777}\n"
		"pre{background:#f4f4f4;padding:.5em;max-height:20em;overflow:auto;white-space:pre-wrap}\n"
		"</style></head><body>\n<h1>jobs-agent-check</h1>\n<p>Thing <code>", f);
	esc(f, k->thing, 0);
	fprintf(f, "</code>, %s. <span id=\"totals\">%zu passed, %zu failed, %zu skipped</span> in %.1f s.</p>\n",
			when, counts[V_PASS], counts[V_FAIL], counts[V_SKIP], total);
	if(k->agent_cmd){
		fputs("<p>Agent: <code>", f);
		esc(f, k->agent_cmd, 0);
		fputs("</code></p>\n", f);
	}
	fputs("<table id=\"summary\"><tr><th>scenario</th><th>verdict</th><th>time</th><th>criterion</th><th>reason</th></tr>\n", f);
	for(size_t i = 0; i < n; i++){
		const struct result *r = &rs[i];
		fprintf(f, "<tr><td><a href=\"#sc-%s\">%s</a></td><td><span class=\"verdict %s\" data-scenario=\"%s\">%s</span></td>"
				"<td>%.1f s</td><td>", r->s->name, r->s->name, verdict_name(r->verdict), r->s->name,
				verdict_name(r->verdict), r->seconds);
		esc(f, r->s->criterion, 0);
		fputs("</td><td>", f);
		if(r->verdict != V_PASS) esc(f, r->reason, 0);
		fputs("</td></tr>\n", f);
	}
	fputs("</table>\n", f);
	for(size_t i = 0; i < n; i++){
		const struct result *r = &rs[i];
		fprintf(f, "<section id=\"sc-%s\"><h2>%s <span class=\"verdict %s\">%s</span></h2>\n<p>", r->s->name,
				r->s->name, verdict_name(r->verdict), verdict_name(r->verdict));
		esc(f, r->s->criterion, 0);
		fputs("</p>\n", f);
		if(r->verdict != V_PASS){
			fputs("<p><strong>", f);
			esc(f, r->reason, 0);
			fputs("</strong></p>\n", f);
		}
		if(r->tr.n) write_diagram(f, &r->tr);
		if(r->agent_status[0]){
			fputs("<p>The agent ", f);
			esc(f, r->agent_status, 0);
			fputs(".</p>\n", f);
		}
		if(r->agent_output && r->agent_output[0]){
			fputs("<details><summary>agent output</summary><pre>", f);
			esc(f, r->agent_output, 0);
			fputs("</pre></details>\n", f);
		}
		fputs("</section>\n", f);
	}
	fputs("</body></html>\n", f);
	return fclose(f) == 0;
}
