/*
 * cmd_bus_main.c — runs cli/cmd_bus.c on its own (argv as `secmx bus ...`
 * would pass it), so its test does not depend on the dispatcher table.
 */
int cmd_bus(int argc, char **argv);

int main(int argc, char **argv)
{
	return cmd_bus(argc - 1, argv + 1);
}
