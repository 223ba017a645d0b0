# fuzz/profile-split.awk - where one binary's CPU samples go, from
# `perf script -F comm,pid,ip,sym,dso` of a `perf record -g` profile
# (one sample a paragraph: "comm pid", then its call chain, leaf first).
#
#   awk -v comm=NAME -v syms=FILE -v label=TEXT -f fuzz/profile-split.awk
#
# syms: "symbol<TAB>core|model|executor" for the binary's own code.
# Processes of the binary that wait for a child (wait4 in a chain: AFL++'s
# fork server, a copy of the binary) are counted apart. Of the others'
# samples: the kernel's, by what entered it (a page fault, a system call,
# anything else: interrupts, task switches), and the system calls made
# by raise(), which is how AFL++'s persistent loop stops the target
# after every input (the engine's, not the target's work); then the user
# samples by the leaf function's place. The kernel's own symbols do not
# say what entered it: on a paravirtualised guest most kernel samples
# land where interrupts are enabled again, whatever the path.
BEGIN {
	while ((getline l < syms) > 0) { split(l, a, "\t"); cat[a[1]] = a[2] }
	RS = ""; FS = "\n"
}
{
	split($1, h, " ")
	if (substr(h[1], 1, 15) != substr(comm, 1, 15))
		next
	pid = h[2]; kern = 0; kind = "user"; caller = ""; place = "other"
	for (i = 2; i <= NF; i++) {
		line = $i; sub(/^[ \t]+/, "", line); split(line, f, " ")
		if (i == 2) {
			kern = f[1] ~ /^ffffffff/
			if (!kern && f[3] ~ ("/" comm "\\)$"))
				place = (f[2] in cat) ? cat[f[2]] : "executor"
		}
		if (f[2] == "exc_page_fault")
			kind = "fault"
		else if (f[2] ~ /^do_syscall_64/ && kind != "fault")
			kind = "syscall"
		if (kern && caller == "" && f[1] !~ /^ffffffff/)
			caller = f[2]
		if (f[2] ~ /wait4/)
			waiter[pid] = 1
	}
	if (kern && kind == "user")
		kind = "other"
	n++; P[n] = pid; K[n] = kind; C[n] = caller; W[n] = place
}
END {
	for (i = 1; i <= n; i++) {
		if (P[i] in waiter) {
			ws++
			continue
		}
		t++
		if (K[i] == "user") {
			u[W[i]]++
			continue
		}
		k++; by[K[i]]++
		if (K[i] == "syscall" && C[i] ~ /pthread_kill|raise|getpid/)
			stop++
	}
	if (!t)
		exit
	printf "profile (%s, perf cpu-clock with call chains, %% of the target processes' samples): " \
	       "kernel %.1f (page faults %.1f, system calls %.1f of which raise(SIGSTOP) %.1f, other %.1f), " \
	       "core %.1f, model %.1f, executor %.1f, libc+liburcu %.1f",
	       label, 100 * k / t, 100 * by["fault"] / t, 100 * by["syscall"] / t, 100 * stop / t,
	       100 * by["other"] / t, 100 * u["core"] / t, 100 * u["model"] / t, 100 * u["executor"] / t,
	       100 * u["other"] / t
	if (ws)
		printf "; the fork server: %.1f%% of the binary's samples", 100 * ws / n
	printf "\n"
	if (stop && t > stop)
		printf "profile (%s): kernel without the engine's raise(SIGSTOP): %.1f%%\n",
		       label, 100 * (k - stop) / (t - stop)
}
