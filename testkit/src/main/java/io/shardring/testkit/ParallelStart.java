package io.shardring.testkit;

import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.Consumer;

/**
 * Starts N servers at once and gives back all of them or none.
 *
 * <p>Parallel because a PostgreSQL start is mostly waiting (initdb's fsyncs, container pulls, the postmaster
 * coming up), so even on two cores three shards start in little more than the time of one. All-or-nothing because a
 * half-started cluster would leave processes behind that nobody holds a handle to.
 */
final class ParallelStart {

    /** Starts the server with the given index; may take seconds. */
    @FunctionalInterface
    interface Starter<T> {
        T start(int index) throws Exception;
    }

    private ParallelStart() {
    }

    static <T> List<T> startAll(String what, int count, Starter<T> starter, Consumer<T> stopper) {
        if (count == 1) { // no thread hop for the common single-shard case
            try {
                return List.of(starter.start(0));
            } catch (Exception e) {
                throw failure(what, 0, e);
            }
        }
        AtomicInteger threadNo = new AtomicInteger();
        ExecutorService pool = Executors.newFixedThreadPool(count, task -> {
            Thread t = new Thread(task, "shardring-start-" + threadNo.getAndIncrement());
            t.setDaemon(true); // never keeps a JVM alive on its own
            return t;
        });
        try {
            List<Future<T>> futures = new ArrayList<>();
            for (int i = 0; i < count; i++) {
                int index = i;
                futures.add(pool.submit(() -> starter.start(index)));
            }
            List<T> started = new ArrayList<>();
            RuntimeException firstFailure = null;
            boolean interrupted = false;
            for (int i = 0; i < count; i++) {
                // wait for every start, even when interrupted: a server still starting unseen would leak
                while (true) {
                    try {
                        started.add(futures.get(i).get());
                        break;
                    } catch (InterruptedException e) {
                        interrupted = true;
                    } catch (ExecutionException e) {
                        RuntimeException failure = failure(what, i, e.getCause());
                        if (firstFailure == null) {
                            firstFailure = failure;
                        } else {
                            firstFailure.addSuppressed(failure);
                        }
                        break;
                    }
                }
            }
            if (interrupted) {
                Thread.currentThread().interrupt();
            }
            if (firstFailure != null) {
                for (T server : started) {
                    try {
                        stopper.accept(server);
                    } catch (RuntimeException e) {
                        firstFailure.addSuppressed(e);
                    }
                }
                throw firstFailure;
            }
            return List.copyOf(started);
        } finally {
            pool.shutdown();
        }
    }

    private static RuntimeException failure(String what, int index, Throwable cause) {
        if (cause instanceof ServerStartException e) {
            return e;
        }
        return new ServerStartException("could not start " + what + " shard" + index + ": " + cause, cause);
    }
}
