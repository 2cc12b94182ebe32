// The tests drive verbs directly (exit codes, files written) without starting a process.
[assembly: System.Runtime.CompilerServices.InternalsVisibleTo("Ctmsr.Tests")]
