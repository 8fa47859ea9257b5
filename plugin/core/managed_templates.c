/* The AWS managed job templates' data (managed_templates.h). Sources, all AWS's own:
 *   - the documents and parameters: the AWS IoT Developer Guide, "Managed template
 *     remote actions and job documents" (job-templates-managed), which shows each
 *     template's job document and says that every template takes the optional
 *     runAsUser and pathToHandler;
 *   - descriptions, regexes and examples: the Developer Guide's "Create a job from AWS
 *     managed templates by using the AWS CLI" (job-template-manage-cli-create), which
 *     prints list-managed-job-templates and describe-managed-job-template
 *     --template-name AWS-Download-File. Where that page elides a template from the
 *     list (AWS-Install-Application, AWS-Start-Application), its description is the
 *     Developer Guide's "Template description". The guide gives packages and services
 *     only a description: they have no regex or example here.
 * Templates AWS publishes no document for (AWS-Run-Command, AWS-Apply-Security-Patches,
 * AWS-Config-File) are left out rather than guessed. */
#include "core/managed_templates.h"

#include <string.h>

#define RUN_AS_USER { "runAsUser", \
	"Execute handler as another user. If not specified, then handler is executed as the same user as device client.", \
	"(.){0,256}", "user1", true, 256 }
#define PATH_TO_HANDLER { "pathToHandler", \
	"Path to handler on the device. If not specified, then device client will use the current working directory.", \
	"(.){0,4096}", "/path/to/handler/script", true, 4096 }

/* A runHandler document: the action's name, its handler script and its args (a JSON
 * array's members, or nothing). */
#define HANDLER_DOCUMENT(name, handler, args) \
	"{\"version\":\"1.0\",\"steps\":[{\"action\":{\"name\":\"" name "\",\"type\":\"runHandler\"," \
	"\"input\":{\"handler\":\"" handler "\"," args "\"path\":\"${aws:iot:parameter:pathToHandler}\"}," \
	"\"runAsUser\":\"${aws:iot:parameter:runAsUser}\"}}]}"
#define ARGS(list) "\"args\":[" list "],"
#define PARAM(key) "\"${aws:iot:parameter:" key "}\""

static const struct managed_param reboot_params[] = { RUN_AS_USER, PATH_TO_HANDLER };
static const struct managed_param download_params[] = {
	{ "downloadUrl", "URL of file to download.", "(.*?)", "http://www.example.com/index.html", false, 0 },
	{ "filePath", "Path on the device where downloaded file is written.", "(.*?)", "/path/to/file", false, 0 },
	RUN_AS_USER, PATH_TO_HANDLER,
};
static const struct managed_param install_params[] = {
	{ "packages", "A space-separated list of one or more applications to be installed.", NULL, NULL, false, 0 },
	RUN_AS_USER, PATH_TO_HANDLER,
};
static const struct managed_param remove_params[] = {
	{ "packages", "A space-separated list of one or more applications to be uninstalled.", NULL, NULL, false, 0 },
	RUN_AS_USER, PATH_TO_HANDLER,
};
static const struct managed_param start_params[] = {
	{ "services", "A space-separated list of one or more applications to be started.", NULL, NULL, false, 0 },
	RUN_AS_USER, PATH_TO_HANDLER,
};
static const struct managed_param stop_params[] = {
	{ "services", "A space-separated list of one or more applications to be stopped.", NULL, NULL, false, 0 },
	RUN_AS_USER, PATH_TO_HANDLER,
};
static const struct managed_param restart_params[] = {
	{ "services", "A space-separated list of one or more applications to be restarted.", NULL, NULL, false, 0 },
	RUN_AS_USER, PATH_TO_HANDLER,
};

#define N(a) (sizeof(a) / sizeof(*(a)))

static const struct managed_template templates[] = {
	{ "AWS-Download-File", "1.0", "A managed job template for downloading a file.", "LINUX",
		HANDLER_DOCUMENT("Download-File", "download-file.sh", ARGS(PARAM("downloadUrl") "," PARAM("filePath"))),
		download_params, N(download_params) },
	{ "AWS-Install-Application", "1.0", "A managed template provided by AWS for installing one or more applications.",
		"LINUX", HANDLER_DOCUMENT("Install-Application", "install-packages.sh", ARGS(PARAM("packages"))),
		install_params, N(install_params) },
	{ "AWS-Reboot", "1.0", "A managed job template for rebooting the device.", "LINUX",
		HANDLER_DOCUMENT("Reboot", "reboot.sh", ""), reboot_params, N(reboot_params) },
	{ "AWS-Remove-Application", "1.0", "A managed job template for uninstalling one or more applications.", "LINUX",
		HANDLER_DOCUMENT("Remove-Application", "remove-packages.sh", ARGS(PARAM("packages"))),
		remove_params, N(remove_params) },
	{ "AWS-Restart-Application", "1.0", "A managed job template for restarting one or more system services.", "LINUX",
		HANDLER_DOCUMENT("Restart-Application", "restart-services.sh", ARGS(PARAM("services"))),
		restart_params, N(restart_params) },
	{ "AWS-Start-Application", "1.0", "A managed template provided by AWS for starting one or more services.", "LINUX",
		HANDLER_DOCUMENT("Start-Application", "start-services.sh", ARGS(PARAM("services"))),
		start_params, N(start_params) },
	{ "AWS-Stop-Application", "1.0", "A managed job template for stopping one or more system services.", "LINUX",
		HANDLER_DOCUMENT("Stop-Application", "stop-services.sh", ARGS(PARAM("services"))),
		stop_params, N(stop_params) },
};

size_t managed_templates_count(void)
{
	return N(templates);
}

const struct managed_template *managed_template_at(size_t i)
{
	return i < N(templates) ? &templates[i] : NULL;
}

const struct managed_template *managed_template_find(const char *name, const char *version)
{
	/* one version of each today, which is its default */
	for(size_t i = 0; i < N(templates); i++){
		if(strcmp(templates[i].name, name) == 0 && (!version || strcmp(templates[i].version, version) == 0)){
			return &templates[i];
		}
	}
	return NULL;
}
