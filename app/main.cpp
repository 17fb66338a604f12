// templet's entry point: the command line (CLI11) dispatching to the subcommands.
#include <CLI/CLI.hpp>
#include <iostream>

#include "app/apply_command.hpp"
#include "app/apply_influxdb_command.hpp"
#include "app/check_command.hpp"
#include "app/cli_suggest.hpp"
#include "app/deps_command.hpp"
#include "app/preview.hpp"
#include "app/redash_import_command.hpp"
#include "app/refresh_request.hpp"
#include "app/run_command.hpp"
#include "app/status_command.hpp"

int main(int argc, char** argv) {
  CLI::App app{"templet: render configuration from Vault and Consul and push it where it is used"};
  app.require_subcommand(1);

  templet::PreviewOptions preview;
  auto* pv = app.add_subcommand("preview", "Render one template to stdout; write nothing");
  pv->add_option("TEMPLATE", preview.template_path, "Template file to render")
      ->type_name("FILE")
      ->required();
  pv->add_option("--data", preview.data_path,
                 "JSON or YAML document bound to dot (default: none, dot is nil)")
      ->type_name("FILE");
  pv->add_option("--left-delimiter", preview.left_delim, "Left action delimiter")
      ->type_name("S")
      ->capture_default_str();
  pv->add_option("--right-delimiter", preview.right_delim, "Right action delimiter")
      ->type_name("S")
      ->capture_default_str();
  pv->add_option("--values", preview.values_path,
                 "Values file (YAML: env, consul.kv, consul.services, vault) supplying all "
                 "outside data offline (default: none, live Vault and Consul)")
      ->type_name("FILE");
  pv->add_option("--function-denylist", preview.function_denylist,
                 "Functions to disable (globs, comma-separated); a denied function fails when "
                 "called (default: none)")
      ->type_name("NAME")
      ->delimiter(',');
  pv->add_option("--sandbox-path", preview.sandbox_path,
                 "Directory the `file` function may read below (default: none, anywhere)")
      ->type_name("DIR");
  pv->add_option("--diff", preview.diff_path,
                 "Print a unified diff against this file instead of the output (default: none)")
      ->type_name("DEST");
  pv->add_flag("--show-secrets", preview.show_secrets,
               "Do not mask values from Vault in --diff (default: masked)");
  pv->add_flag("--error-on-missing-key", preview.error_on_missing_key,
               "Fail when a map has no entry for a key (missingkey=error; default: off)");

  std::vector<std::string> validate_paths;
  auto* va = app.add_subcommand("validate", "Parse templates and report errors");
  std::vector<std::string> validate_configs;
  va->add_option("TEMPLATE", validate_paths, "Template files to parse")->type_name("FILE");
  va->add_option("-c,--config", validate_configs,
                 "Config file to load and check as well (repeatable; default: none)")
      ->type_name("FILE");

  templet::RunCommandOptions run;
  auto* rn = app.add_subcommand("run", "Render templates, write files, run hooks; keep them fresh");
  rn->add_option("-c,--config", run.config_paths,
                 "Config file, or directory of *.yaml read in name order (repeatable; later "
                 "files win for settings, templates accumulate; default: none)")
      ->type_name("FILE");
  rn->add_option("--template", run.template_flags,
                 "SOURCE:DESTINATION[:COMMAND]: add a template; COMMAND runs through /bin/sh -c "
                 "after a change (repeatable; default: none)")
      ->type_name("SRC:DST[:CMD]");
  rn->add_flag("--once", run.once,
               "Render everything once, run hooks, and exit (default: keep running)");
  rn->add_flag("--dry-run", run.dry_run,
               "Write nothing, run nothing; print diffs and plans (default: off)");
  rn->add_option("--timeout", run.timeout,
                 "With --once: give up after this long (e.g. 2m) and exit 3 naming missing data")
      ->type_name("DUR")
      ->default_str("forever");
  rn->add_option("--values", run.values_path,
                 "Offline data (values file) instead of Vault and Consul (default: none)")
      ->type_name("FILE");
  rn->add_option("--log-level", run.log_level,
                 "trace, debug, info, warn or error (default: the config's log_level, itself "
                 "info by default)")
      ->type_name("LEVEL");

  auto* ap = app.add_subcommand("apply", "Apply a rendered file to a server by hand");
  ap->require_subcommand(1);
  templet::RedashImportOptions redash_import;
  auto* rd = app.add_subcommand("redash", "Redash tools");
  auto* ri = rd->add_subcommand(
      "import", "Print a datasources template for the datasources a Redash has today");
  ri->add_option("--url", redash_import.url, "Redash URL (default: $REDASH_URL)");
  ri->add_option("--api-key-env", redash_import.api_key_env,
                 "Variable holding the API key (default: REDASH_API_KEY)");
  ri->add_option("--forwarded-proto", redash_import.forwarded_proto,
                 "Send X-Forwarded-Proto (https for a local http address behind "
                 "REDASH_ENFORCE_HTTPS; default: none)");
  ri->add_option("--manage-py", redash_import.manage_py,
                 "Read through this manage.py command instead of the API, e.g. \"docker exec -i "
                 "redash-server python3 manage.py\" (default: the API)");
  rd->require_subcommand(1);

  templet::ApplyRedashOptions apply_redash;
  auto* ar = ap->add_subcommand("redash", "Make Redash's datasources match a rendered file");
  ar->add_option("FILE", apply_redash.file, "Rendered datasources YAML")->required();
  ar->add_option("--url", apply_redash.url, "Redash URL (default: $REDASH_URL)");
  ar->add_option("--api-key-env", apply_redash.api_key_env,
                 "Variable holding the API key (default: REDASH_API_KEY)");
  ar->add_option("--state-dir", apply_redash.state_dir,
                 "Where digests of applied options are kept (default: /var/lib/templet)");
  ar->add_option("--ready-timeout", apply_redash.ready_timeout,
                 "How long to wait for a Redash that is not ready (default 2m)")
      ->type_name("DUR");
  ar->add_option("--request-timeout", apply_redash.request_timeout,
                 "Give up on one request after this long (default 30s)")
      ->type_name("DUR");
  ar->add_option("--verify", apply_redash.verify,
                 "test_on_change (default): run Redash's connection test on each datasource "
                 "created or updated; off: do not")
      ->check(CLI::IsMember({"test_on_change", "off"}));
  ar->add_flag("--plan", apply_redash.plan_only, "Print the plan only; write nothing");

  // plan: what run would change, read-only: diffs of every destination and every hook's plan.
  templet::RunCommandOptions plan;
  plan.once = true;
  plan.dry_run = true;
  auto* pl = app.add_subcommand(
      "plan", "Show what run would change, read-only: file diffs and apply plans (secrets masked)");
  pl->add_option("-c,--config", plan.config_paths,
                 "Config file or directory (repeatable; default: none)")
      ->type_name("FILE");
  pl->add_option("--timeout", plan.timeout, "Give up waiting for data after this long")
      ->type_name("DUR")
      ->default_str("2m");
  pl->add_option("--values", plan.values_path,
                 "Offline data (values file) instead of Vault and Consul; hooks are not planned")
      ->type_name("FILE");

  templet::RefreshOptions refresh;
  auto* rf = app.add_subcommand(
      "refresh", "Make the running daemon fetch its data anew now (e.g. after a rotate-role)");
  rf->add_option("TARGET", refresh.target,
                 "A dependency (database/static-creds/svc, vault.read(...)) or a destination "
                 "(default: everything)");
  rf->add_option("-c,--config", refresh.config_paths,
                 "The daemon's config file or directory, for its state_dir (repeatable)")
      ->type_name("FILE");
  rf->add_option("--state-dir", refresh.state_dir,
                 "The daemon's state_dir (default: from the config, else /var/lib/templet)")
      ->type_name("DIR");

  templet::StatusCommandOptions status;
  auto* st = app.add_subcommand(
      "status", "Ask the running daemon how it is: dependencies, leases, templates, targets");
  st->add_option("-c,--config", status.config_paths,
                 "Config file or directory whose state_dir the daemon uses (repeatable)")
      ->type_name("FILE");
  st->add_option("--state-dir", status.state_dir,
                 "The daemon's state_dir (wins over -c; default: the config's, else "
                 "/var/lib/templet)")
      ->type_name("DIR");
  st->add_flag("--json", status.json, "Print the status document as JSON (default: a table)");

  templet::DepsCommandOptions deps;
  auto* dp = app.add_subcommand(
      "deps",
      "List the Vault paths, Consul keys and services, files and env vars each template "
      "reads (rendered against a recording data source)");
  dp->add_option("-c,--config", deps.config_paths, "Config file or directory (repeatable)")
      ->type_name("FILE")
      ->required();
  dp->add_option("--values", deps.values_path,
                 "Values file whose answers let the render reach with/if branches (default: "
                 "none)")
      ->type_name("FILE");
  dp->add_flag("--json", deps.json, "Print JSON (default: a list per template)");

  templet::CheckCommandOptions check;
  auto* ck = app.add_subcommand(
      "check", "Ask Vault and Consul whether the tokens may read everything the templates read");
  ck->add_option("-c,--config", check.config_paths, "Config file or directory (repeatable)")
      ->type_name("FILE")
      ->required();
  ck->add_option("--values", check.values_path,
                 "Values file whose answers let the render reach with/if branches (default: "
                 "none)")
      ->type_name("FILE");

  auto* ver = app.add_subcommand("version", "Print the version");

  templet::ApplyInfluxOptions influx;
  auto* ai = ap->add_subcommand("influxdb", "Create/update (and prune) InfluxDB v2 tasks");
  ai->add_option("FILE", influx.file, "Rendered Flux file (scripts separated by ---)")->required();
  ai->add_option("--url", influx.url, "InfluxDB URL (default: INFLUXDB_URL)");
  ai->add_option("--org", influx.org, "Organization name (default: INFLUXDB_ORG)");
  ai->add_option("--org-id", influx.org_id, "Organization id (wins over --org)");
  ai->add_option("--token-env", influx.token_env, "Variable holding the token")
      ->capture_default_str();
  ai->add_option("--ready-timeout", influx.ready_timeout,
                 "How long to wait for a server that is not ready (default 2m)");
  ai->add_flag("--plan", influx.plan_only, "Print the plan only; write nothing");
  ai->add_flag("--prune", influx.prune, "Delete templet's tasks of FILE no longer rendered");

  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    if (templet::unknown_arguments(app, e)) {
      std::cerr << templet::describe_extras(app);
      return 2;
    }
    int rc = app.exit(e);
    return rc == 0 ? 0 : 2;
  }
  if (pv->parsed()) return templet::run_preview(preview);
  if (va->parsed()) {
    if (validate_paths.empty() && validate_configs.empty()) {
      std::cerr << "templet validate: give a TEMPLATE or --config\n";
      return 2;
    }
    return templet::run_validate(validate_paths, validate_configs);
  }
  if (rn->parsed()) return templet::run_run_command(run);
  if (rf->parsed()) return templet::run_refresh_command(refresh);
  if (pl->parsed()) {
    if (plan.timeout.empty()) plan.timeout = "2m";
    return templet::run_run_command(plan);
  }
  if (st->parsed()) return templet::run_status_command(status);
  if (dp->parsed()) return templet::run_deps_command(deps);
  if (ck->parsed()) return templet::run_check_command(check);
  if (ar->parsed()) return templet::run_apply_redash(apply_redash);
  if (ri->parsed()) return templet::run_redash_import(redash_import);
  if (ai->parsed()) return templet::run_apply_influxdb(influx);
  if (ver->parsed()) {
    std::cout << "templet " << TEMPLET_VERSION << "\n";
    return 0;
  }
  return 2;
}
