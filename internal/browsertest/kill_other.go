//go:build !linux

package browsertest

// killLeftovers does nothing outside Linux, where there is no /proc to find
// the processes of the profile by; chromedp kills the browser's main process.
func killLeftovers(profile string) {}
