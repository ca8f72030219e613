/* codeanatomy: subcommand dispatch, global --help. */
#include "cli/cli.h"

#include <stdio.h>
#include <string.h>

/* The subcommands, in the order `codeanatomy --help` lists them. */
static const cli_command *const commands[] = {
    &cli_cmd_delta,
    &cli_cmd_extract,
    &cli_cmd_functions,
    &cli_cmd_query,
    &cli_cmd_version,
    /* ---- later commands go here, as their modules land: `compile`, `run`, `build`
     * (one cmd_<name>.c each, declared in cli.h). ---- */
};

#define NCOMMANDS (sizeof commands / sizeof commands[0])

static int global_help(FILE *f)
{
    fprintf(f, "usage: codeanatomy <command> [options] [arguments]\n\n"
               "CodeAnatomy builds a Code Property Graph of a Python code base as Delta Lake tables.\n\n"
               "commands:\n");
    for (size_t i = 0; i < NCOMMANDS; i++)
        fprintf(f, "  %-12s %s\n", commands[i]->name, commands[i]->summary);
    fprintf(f, "\nRun 'codeanatomy <command> --help' for a command's options.\n"
               "Exit codes: 0 ok, 1 failure, 2 usage error.\n");
    return 0;
}

int main(int argc, char **argv)
{
    if (argc < 2)
        return cli_usage_error(NULL, "no command given");
    const char *name = argv[1];
    if (!strcmp(name, "--help") || !strcmp(name, "-h") || !strcmp(name, "help"))
        return global_help(stdout);
    if (!strcmp(name, "--version"))
        name = "version";
    for (size_t i = 0; i < NCOMMANDS; i++) {
        if (!strcmp(name, commands[i]->name))
            return commands[i]->run(commands[i], argc - 1, argv + 1);
    }
    if (name[0] == '-')
        return cli_usage_error(NULL, "unknown option '%s'", name);
    return cli_usage_error(NULL, "unknown command '%s'", name);
}
