#pragma once
// The subcommands of the `apical` program. Each takes the arguments after
// its own name (argv[0] is the subcommand name) and returns the exit status.
// Errors the user can act on are thrown as apical::parameter_error or
// apical::file_error and printed by main().
namespace apical::app {

int run_simulate(int argc, char** argv);
int run_dataset(int argc, char** argv);
int run_train(int argc, char** argv);
int run_evaluate(int argc, char** argv);

}  // namespace apical::app
