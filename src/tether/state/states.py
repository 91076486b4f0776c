"""The states a traced process and a traced thread can be in.

Both enums are `str` enums so that code and users comparing with the old
string names ("running", "stopped"...) keep working; the runtime compares
members by identity (`proc.state is ProcState.RUNNING`)."""
from enum import Enum


class ProcState(str, Enum):
    STARTING = "starting"    # a followed child announced by fork/clone, first stop not seen yet
    RUNNING = "running"      # the user's cont(): its threads run (or handle events on their own)
    STEPPING = "stepping"    # one thread runs a user single-step, the others are stopped
    STOPPING = "stopping"    # an all-stop is under way: threads are being interrupted
    STOPPED = "stopped"      # every thread is in a ptrace-stop we hold; the user has control
    DETACHING = "detaching"  # a new child we let go of at its first stop
    DETACHED = "detached"    # let go: no longer traced by us
    DEAD = "dead"            # its leader's death was reported
    IN_GDB = "in gdb"        # handed to gdb (Debugger.gdb()): not traced by us until taken back

    def __str__(self) -> str:
        return self.value


# The members as module constants, for the runtime's per-stop code: looking a
# member up on its enum class goes through EnumType's __getattr__ hook
# (~60 ns on Python 3.11), a module global does not.
PROC_STARTING, PROC_RUNNING, PROC_STEPPING, PROC_STOPPING, PROC_STOPPED, PROC_DETACHING, \
    PROC_DETACHED, PROC_DEAD, PROC_IN_GDB = ProcState

# States in which a process has no thread left for us to act on.
GONE = (ProcState.DEAD, ProcState.DETACHED)


class TaskState(str, Enum):
    NEW = "new"              # announced by its creator's fork/clone event, first stop not seen yet
    RUNNING = "running"      # resumed by us (or never stopped since it was seized)
    STOPPED = "stopped"      # in a ptrace-stop we hold: registers can be read
    LISTENING = "listening"  # in a job-control stop, resumed with PTRACE_LISTEN (not a ptrace-stop)
    EXITING = "exiting"      # resumed from PTRACE_EVENT_EXIT: only its death report is left
    DEAD = "dead"            # its death was reported (or it vanished in another thread's exec)

    def __str__(self) -> str:
        return self.value


TASK_NEW, TASK_RUNNING, TASK_STOPPED, TASK_LISTENING, TASK_EXITING, TASK_DEAD = TaskState
