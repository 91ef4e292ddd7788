package io.shardring.testkit;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;

/**
 * Crashes one local PostgreSQL server the way a power cut to its processes would: SIGKILL to the postmaster and every
 * process it started, so nobody writes a shutdown checkpoint and the next start has to run crash recovery.
 */
final class ServerCrash {

    private static final Path PROC = Path.of("/proc");

    private ServerCrash() {
    }

    /** The postmaster's pid from the first line of {@code postmaster.pid}, if the file is there and readable. */
    static Optional<Long> postmasterPid(Path dataDirectory) {
        return pidFileLines(dataDirectory).flatMap(lines -> {
            try {
                return Optional.of(Long.parseLong(lines.get(0).trim()));
            } catch (NumberFormatException e) {
                return Optional.empty();
            }
        });
    }

    /**
     * {@code postmaster.pid}: pid, data directory, start time, port, first Unix socket directory (empty if none), ...
     * Empty if the server never started, was stopped cleanly, or the file is torn.
     */
    private static Optional<List<String>> pidFileLines(Path dataDirectory) {
        return lines(dataDirectory.resolve("postmaster.pid"));
    }

    private static Optional<List<String>> lines(Path file) {
        try {
            List<String> lines = Files.readAllLines(file, StandardCharsets.US_ASCII);
            return lines.isEmpty() ? Optional.empty() : Optional.of(lines);
        } catch (IOException e) {
            return Optional.empty();
        }
    }

    /**
     * SIGKILLs the server whose data directory is {@code dataDirectory} and waits until none of its processes runs,
     * then removes the files it left that would stand in the way of a restart: {@code postmaster.pid}, and its Unix
     * socket with that socket's {@code .lock}.
     *
     * @throws IllegalStateException if no postmaster runs there, or its processes outlive {@code timeout}
     */
    static void kill(String name, Path dataDirectory, Duration timeout) {
        Path pidFile = dataDirectory.resolve("postmaster.pid");
        List<String> pidFileLines = pidFileLines(dataDirectory).orElse(List.of());
        long pid = postmasterPid(dataDirectory).orElseThrow(() -> new IllegalStateException(
                "cannot kill " + name + ": no readable " + pidFile + ", so its server is not running"));
        ProcessHandle postmaster = ProcessHandle.of(pid).filter(ServerCrash::running).orElseThrow(() ->
                new IllegalStateException("cannot kill " + name + ": its postmaster (pid " + pid + ", from " + pidFile
                        + ") is not running"));

        Map<Long, ProcessHandle> doomed = new LinkedHashMap<>();
        doomed.put(pid, postmaster);
        postmaster.descendants().forEach(process -> doomed.put(process.pid(), process));
        // postmaster first: once dead it can neither fork nor react to its children dying (by starting its own
        // crash recovery, which would fork new processes)
        doomed.values().forEach(ProcessHandle::destroyForcibly);

        long deadline = System.nanoTime() + timeout.toNanos();
        while (true) {
            // A child forked between descendants() and the postmaster's death was missed, and being orphaned now it
            // is nobody's descendant; all processes of a PostgreSQL server run in its data directory, so look there.
            for (ProcessHandle straggler : runningIn(dataDirectory)) {
                if (doomed.putIfAbsent(straggler.pid(), straggler) == null) {
                    straggler.destroyForcibly();
                }
            }
            List<Long> left = new ArrayList<>();
            doomed.values().stream().filter(ServerCrash::running).forEach(process -> left.add(process.pid()));
            if (left.isEmpty()) {
                break;
            }
            if (System.nanoTime() > deadline) {
                throw new IllegalStateException("killed " + name + " but its processes " + left + " still run after "
                        + timeout.toMillis() + " ms");
            }
            try {
                Thread.sleep(20);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                throw new IllegalStateException("interrupted while waiting for the processes of " + name + " to die",
                        e);
            }
        }

        // PostgreSQL takes over stale lock files on restart only if the pid in them no longer exists, but a killed
        // postmaster is orphaned and may linger as a zombie until PID 1 reaps it (seen here: the restart failed with
        // "lock file .s.PGSQL.<port>.lock already exists"), or its pid may be reused. zonky's close() of the dead
        // instance also runs pg_ctl stop, which would signal whatever process has the pid in postmaster.pid.
        deleteStale(name, pidFile);
        if (pidFileLines.size() > 4 && !pidFileLines.get(4).isBlank()) {
            Path socket = Path.of(pidFileLines.get(4).trim(), ".s.PGSQL." + pidFileLines.get(3).trim());
            Path socketLock = Path.of(socket + ".lock");
            if (Long.toString(pid).equals(lines(socketLock).map(lines -> lines.get(0).trim()).orElse(""))) {
                deleteStale(name, socket); // else it stays behind in /tmp if the shard is never restarted
                deleteStale(name, socketLock);
            }
        }
    }

    private static void deleteStale(String name, Path file) {
        try {
            Files.deleteIfExists(file);
        } catch (IOException e) {
            throw new UncheckedIOException("killed " + name + " but cannot remove its stale " + file, e);
        }
    }

    /** Alive and not a zombie: a zombie holds no file, port or shared memory any more, it only waits to be reaped. */
    static boolean running(ProcessHandle process) {
        if (!process.isAlive()) {
            return false;
        }
        Path stat = PROC.resolve(Long.toString(process.pid())).resolve("stat");
        try {
            String line = Files.readString(stat, StandardCharsets.US_ASCII);
            int afterName = line.lastIndexOf(')'); // the command name in parentheses may itself hold blanks or ')'
            return afterName < 0 || afterName + 2 >= line.length() || line.charAt(afterName + 2) != 'Z';
        } catch (NoSuchFileException e) {
            return !Files.isDirectory(PROC); // no /proc (not Linux): trust isAlive(); else the process just ended
        } catch (IOException e) {
            return true;
        }
    }

    /** Processes whose working directory is {@code dataDirectory}; empty where there is no {@code /proc}. */
    private static List<ProcessHandle> runningIn(Path dataDirectory) {
        if (!Files.isDirectory(PROC)) {
            return List.of();
        }
        Path target;
        try {
            target = dataDirectory.toRealPath();
        } catch (IOException e) {
            return List.of();
        }
        List<ProcessHandle> found = new ArrayList<>();
        ProcessHandle.allProcesses().forEach(process -> {
            try {
                Path cwd = Files.readSymbolicLink(PROC.resolve(Long.toString(process.pid())).resolve("cwd"));
                if (cwd.equals(target) && running(process)) {
                    found.add(process);
                }
            } catch (IOException | SecurityException | UnsupportedOperationException e) {
                // ended meanwhile, or not ours to inspect (and then not ours to kill either)
            }
        });
        return found;
    }
}
