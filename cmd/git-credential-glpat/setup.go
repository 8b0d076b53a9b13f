package main

func runSetup(args []string, ui *ui) int {
	ui.errorf("setup is not available yet")
	return 1
}
