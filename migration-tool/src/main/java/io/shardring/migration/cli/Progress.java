package io.shardring.migration.cli;

import com.fasterxml.jackson.databind.node.ObjectNode;
import io.shardring.migration.move.MoveListener;
import java.time.LocalTime;
import java.time.OffsetDateTime;
import java.time.format.DateTimeFormatter;
import java.time.temporal.ChronoUnit;
import java.util.HashMap;
import java.util.Locale;
import java.util.Map;
import me.tongfei.progressbar.ConsoleProgressBarConsumer;
import me.tongfei.progressbar.ProgressBar;
import me.tongfei.progressbar.ProgressBarBuilder;
import me.tongfei.progressbar.ProgressBarStyle;

/**
 * Shows a move as it runs: on a terminal a progress bar per job while it copies (rows copied, lag) and a line per
 * phase; with text output elsewhere lines (progress at most once a second per job); with JSON output one JSON
 * object per event. Never throws: an exception in a listener would stop the mover.
 */
final class Progress implements MoveListener {
    enum Mode { BAR, TEXT, JSON }

    private static final DateTimeFormatter TIME = DateTimeFormatter.ofPattern("HH:mm:ss");

    private final CliCommand cmd;
    private final Mode mode;
    private final Map<Integer, Long> expectedRows;
    private final Map<Integer, ProgressBar> bars = new HashMap<>();
    private final Map<Integer, Long> lastProgress = new HashMap<>();

    Progress(CliCommand cmd, Map<Integer, Long> expectedRows) {
        this.cmd = cmd;
        this.mode = cmd.json() ? Mode.JSON : cmd.terminal() ? Mode.BAR : Mode.TEXT;
        this.expectedRows = expectedRows;
    }

    @Override
    public synchronized void on(long moveId, int job, String phase, String event, String detail, long rows,
            long lagBytes) {
        try {
            handle(moveId, job, phase, event, detail, rows, lagBytes);
        } catch (RuntimeException e) {
            // progress display must never stop a move
        }
    }

    private void handle(long moveId, int job, String phase, String event, String detail, long rows, long lagBytes) {
        boolean progress = "progress".equals(event);
        if (progress && mode != Mode.BAR) {
            long now = System.nanoTime();
            Long last = lastProgress.get(job);
            if (last != null && now - last < 1_000_000_000L) {
                return;
            }
            lastProgress.put(job, now);
        }
        switch (mode) {
            case JSON: {
                ObjectNode o = CliCommand.object("event");
                o.put("move", moveId);
                o.put("job", job);
                o.put("phase", phase);
                o.put("event", event);
                o.put("detail", detail);
                if (rows >= 0) {
                    o.put("rows", rows);
                }
                if (lagBytes >= 0) {
                    o.put("lagBytes", lagBytes);
                }
                o.put("at", OffsetDateTime.now().truncatedTo(ChronoUnit.MILLIS).toString());
                cmd.emit(o);
                return;
            }
            case BAR:
                if ("copy".equals(phase) && progress) {
                    ProgressBar bar = bars.computeIfAbsent(job, j -> newBar(j));
                    long max = bar.getMax();
                    bar.stepTo(max > 0 ? Math.min(rows, max) : rows);
                    bar.setExtraMessage(lagBytes >= 0 ? "lag " + bytes(lagBytes) : detail);
                    return;
                }
                if ("copy".equals(phase) && ("finished".equals(event) || "failed".equals(event))) {
                    ProgressBar bar = bars.remove(job);
                    if (bar != null) {
                        if ("finished".equals(event) && bar.getMax() > 0) {
                            bar.stepTo(bar.getMax());
                        }
                        bar.setExtraMessage("finished".equals(event) ? "in sync" : "failed");
                        bar.close();
                    }
                }
                line(moveId, job, phase, event, detail, rows, lagBytes);
                return;
            default:
                line(moveId, job, phase, event, detail, rows, lagBytes);
        }
    }

    private ProgressBar newBar(int job) {
        long max = expectedRows.getOrDefault(job, -1L);
        return new ProgressBarBuilder().setTaskName("job " + (job + 1) + " copy").setInitialMax(max > 0 ? max : -1)
                .setStyle(ProgressBarStyle.UNICODE_BLOCK).setUnit(" rows", 1).setUpdateIntervalMillis(250)
                .setConsumer(new ConsoleProgressBarConsumer(System.err)).build();
    }

    private void line(long moveId, int job, String phase, String event, String detail, long rows, long lagBytes) {
        if ("copy".equals(phase) && "started".equals(event)) {
            detail = "slot and publication on the source, COPY in the slot's snapshot, then a subscription on the"
                    + " target (" + detail + ")";
        } else if ("copy".equals(phase) && "finished".equals(event)) {
            detail = "target caught up, streaming changes (" + detail + ")";
        }
        StringBuilder sb = new StringBuilder();
        sb.append(LocalTime.now().format(TIME)).append("  move ").append(moveId);
        if (job >= 0) {
            sb.append(" job ").append(job + 1);
        }
        sb.append("  ").append(phase).append(' ').append(event);
        if ("progress".equals(event) && rows >= 0 && "cleanup".equals(phase)) {
            sb.append(String.format(Locale.ROOT, ": %,d rows deleted", rows));
        } else if ("progress".equals(event) && rows >= 0) {
            sb.append(String.format(Locale.ROOT, ": %,d rows copied", rows));
            Long max = expectedRows.get(job);
            if (max != null && max > 0) {
                sb.append(String.format(Locale.ROOT, " (this job moves ~%,d)", max));
            }
            if (detail != null) {
                sb.append(", ").append(detail);
            }
        } else if (detail != null) {
            sb.append(": ").append(detail);
        }
        if (lagBytes > 0) {
            sb.append(", lag ").append(bytes(lagBytes));
        }
        cmd.say(sb.toString());
    }

    static String bytes(long n) {
        if (n < 1024) {
            return n + " B";
        }
        if (n < 1024 * 1024) {
            return String.format(Locale.ROOT, "%.1f KiB", n / 1024.0);
        }
        return String.format(Locale.ROOT, "%.1f MiB", n / (1024.0 * 1024));
    }

    /** Closes bars left open by a failure. */
    synchronized void close() {
        bars.values().forEach(ProgressBar::close);
        bars.clear();
    }
}
