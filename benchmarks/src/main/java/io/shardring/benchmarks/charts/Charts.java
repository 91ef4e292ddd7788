package io.shardring.benchmarks.charts;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.awt.BasicStroke;
import java.awt.Color;
import java.awt.Font;
import java.awt.Paint;
import java.awt.Rectangle;
import java.awt.geom.Ellipse2D;
import java.awt.geom.Rectangle2D;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.text.DecimalFormat;
import java.text.DecimalFormatSymbols;
import java.text.NumberFormat;
import java.time.ZonedDateTime;
import java.time.format.DateTimeFormatter;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Optional;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Stream;
import org.jfree.chart.JFreeChart;
import org.jfree.chart.LegendItem;
import org.jfree.chart.LegendItemCollection;
import org.jfree.chart.axis.AxisLocation;
import org.jfree.chart.axis.CategoryAxis;
import org.jfree.chart.axis.CategoryLabelPositions;
import org.jfree.chart.axis.NumberAxis;
import org.jfree.chart.block.BlockBorder;
import org.jfree.chart.labels.ItemLabelAnchor;
import org.jfree.chart.labels.ItemLabelPosition;
import org.jfree.chart.labels.StandardCategoryItemLabelGenerator;
import org.jfree.chart.plot.CategoryPlot;
import org.jfree.chart.plot.DatasetRenderingOrder;
import org.jfree.chart.plot.PlotOrientation;
import org.jfree.chart.renderer.category.BarRenderer;
import org.jfree.chart.renderer.category.LineAndShapeRenderer;
import org.jfree.chart.renderer.category.StandardBarPainter;
import org.jfree.chart.renderer.category.StatisticalBarRenderer;
import org.jfree.chart.text.TextUtils;
import org.jfree.chart.title.LegendTitle;
import org.jfree.chart.title.TextTitle;
import org.jfree.chart.ui.HorizontalAlignment;
import org.jfree.chart.ui.RectangleEdge;
import org.jfree.chart.ui.RectangleInsets;
import org.jfree.chart.ui.TextAnchor;
import org.jfree.data.category.DefaultCategoryDataset;
import org.jfree.data.statistics.DefaultStatisticalCategoryDataset;
import org.jfree.svg.SVGGraphics2D;
import org.jfree.svg.ViewBox;

/**
 * Draws the charts of {@code docs/benchmarks.md} from the result files in {@code benchmarks/results}: JFreeChart
 * rendered into JFreeSVG's {@link SVGGraphics2D}, one SVG file per chart.
 *
 * <pre>java -cp benchmarks/target/benchmarks.jar io.shardring.benchmarks.charts.Charts [RESULTS_DIR [OUT_DIR]]</pre>
 *
 * <p>Defaults {@code benchmarks/results} and {@code docs/charts}, relative to the working directory ({@code
 * benchmarks/run charts} runs it from the project root). Prints one line per chart written. The output depends on
 * the result files alone (no timestamp of the drawing, fixed ids, locale-independent number formats), so drawing
 * again from the same results changes no byte. A suite without result files gets no chart (a warning on stderr).
 */
public final class Charts {

    static {
        // no display: AWT's fonts and geometry only
        System.setProperty("java.awt.headless", "true");
        // rotated labels (the vertical axes') as SVG text, not as glyph outlines drawn through a TextLayout
        TextUtils.setUseDrawRotatedStringWorkaround(false);
    }

    /** The charts' size in pixels (the SVG also has a viewBox, so it scales). */
    static final int WIDTH = 900;
    static final int HEIGHT = 500;

    /** How the result files are named in captions, wherever they were read from. */
    private static final String RESULTS_PATH = "benchmarks/results/";

    private static final Pattern STAMPED = Pattern.compile("([a-z]+)-(\\d{8}T\\d{6}Z)\\.json");
    private static final DateTimeFormatter STAMP = DateTimeFormatter.ofPattern("uuuuMMdd'T'HHmmssX", Locale.ROOT);
    private static final DateTimeFormatter DAY_TIME = DateTimeFormatter.ofPattern("uuuu-MM-dd HH:mm", Locale.ROOT);
    private static final DateTimeFormatter SHORT = DateTimeFormatter.ofPattern("MM-dd HH:mm", Locale.ROOT);

    private static final Color SHARDRING = new Color(0x1f, 0x77, 0xb4);
    private static final Color CONTENDER = new Color(0x9a, 0x9a, 0x9a);
    private static final Color SECOND = new Color(0xff, 0x7f, 0x0e);
    private static final Color THIRD = new Color(0x2c, 0xa0, 0x2c);
    private static final Color GRID = new Color(0xdd, 0xdd, 0xdd);
    private static final Color TEXT = new Color(0x33, 0x33, 0x33);

    private static final Font TITLE_FONT = new Font(Font.SANS_SERIF, Font.BOLD, 17);
    private static final Font CAPTION_FONT = new Font(Font.SANS_SERIF, Font.PLAIN, 11);
    private static final Font LABEL_FONT = new Font(Font.SANS_SERIF, Font.PLAIN, 12);
    private static final Font TICK_FONT = new Font(Font.SANS_SERIF, Font.PLAIN, 11);

    private static final ObjectMapper JSON = new ObjectMapper();

    /** One chart: the file name it is written to (without {@code .svg}), and the chart. */
    record Chart(String name, JFreeChart chart, String sources) {
    }

    private Charts() {
    }

    public static void main(String[] args) throws IOException {
        if (args.length > 2 || (args.length > 0 && args[0].startsWith("-"))) {
            System.err.println("usage: Charts [RESULTS_DIR [OUT_DIR]]  (defaults: benchmarks/results docs/charts)");
            System.exit(2);
        }
        Path results = Path.of(args.length > 0 ? args[0] : "benchmarks/results");
        Path out = Path.of(args.length > 1 ? args[1] : "docs/charts");
        List<Path> written = write(results, out);
        if (written.isEmpty()) {
            System.err.println("Charts: no result files in " + results);
            System.exit(1);
        }
    }

    /** Draws every chart the result files in {@code results} allow into {@code out}; returns the files written. */
    public static List<Path> write(Path results, Path out) throws IOException {
        Files.createDirectories(out);
        List<Path> written = new ArrayList<>();
        for (Chart chart : build(results)) {
            Path file = out.resolve(chart.name() + ".svg");
            Files.writeString(file, svg(chart), StandardCharsets.UTF_8);
            written.add(file);
            System.out.println("chart " + file + ": " + chart.chart().getTitle().getText() + " (from "
                    + chart.sources() + ")");
        }
        return written;
    }

    /** The charts, in the order of docs/benchmarks.md. */
    static List<Chart> build(Path results) throws IOException {
        List<Chart> charts = new ArrayList<>();
        latest(results, "ring").ifPresent(f -> charts.add(ringLookup(f)));
        List<Path> router = history(results, "router");
        if (!router.isEmpty()) {
            charts.add(routerThroughput(router));
        }
        List<Path> move = history(results, "move");
        if (!move.isEmpty()) {
            charts.add(moveHistory(move));
        }
        latest(results, "scale").ifPresent(f -> charts.add(scaleGuard(f)));
        List<Path> replicas = history(results, "replicas");
        if (!replicas.isEmpty()) {
            charts.add(replicas(replicas));
        }
        return charts;
    }

    /** The chart as a standalone SVG document; the same chart gives the same bytes. */
    static String svg(Chart chart) {
        SVGGraphics2D g = new SVGGraphics2D(WIDTH, HEIGHT);
        // the default prefix is System.nanoTime(): fixed instead, so that a redraw changes nothing
        g.setDefsKeyPrefix(chart.name() + "-");
        chart.chart().draw(g, new Rectangle(0, 0, WIDTH, HEIGHT));
        String svg = g.getSVGElement(null, true, new ViewBox(0, 0, WIDTH, HEIGHT), null, null);
        // one element a line (JFreeSVG writes one long line), so that a changed result shows as a readable diff;
        // a line break between two tags is insignificant in SVG, and no text element holds a tag
        return "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n" + svg.replace("><", ">\n<") + "\n";
    }

    // ---- ring

    /** Nanoseconds per lookup of shardring and the contenders, with JMH's error, from the newest ring run. */
    static Chart ringLookup(Path file) {
        JsonNode run = read(file);
        JsonNode jmh = run.path("jmh");
        DefaultStatisticalCategoryDataset data = new DefaultStatisticalCategoryDataset();
        List<Boolean> ours = new ArrayList<>();
        String[][] bars = {
            {"lookup_ns", "shardring, text key"},
            {"jumpback_ns", "JumpBackHash (XXH3), text key"},
            {"guava_ns", "Guava consistentHash (Murmur3), text key"},
            {"seed_ns", "seed-style ring (TreeMap, SHA-256), text key"},
            {"allgood_ns", "allgood-consistent-hash, text key"},
            {"lookup_long_ns", "shardring, bigint key"},
            {"pinned_lookup_long_ns", "shardring, bigint key, 1,000 pinned keys"},
            {"jumpback_long_ns", "JumpBackHash (XXH3), bigint key"},
        };
        for (String[] bar : bars) {
            JsonNode m = jmh.path(bar[0]);
            if (!m.has("score")) {
                continue;
            }
            double score = m.path("score").asDouble();
            double error = m.path("error").asDouble(0);
            data.add(score, error, "ns per lookup", bar[1] + ": " + ns(score) + " ± " + ns(error) + " ns");
            ours.add(bar[1].startsWith("shardring"));
        }
        StatisticalBarRenderer renderer = new StatisticalBarRenderer() {
            @Override
            public Paint getItemPaint(int row, int column) {
                return ours.get(column) ? SHARDRING : CONTENDER;
            }
        };
        styleBars(renderer);
        renderer.setErrorIndicatorPaint(TEXT);
        renderer.setErrorIndicatorStroke(new BasicStroke(1f));
        renderer.setItemMargin(0);
        CategoryAxis categories = categoryAxis(null);
        categories.setMaximumCategoryLabelWidthRatio(0.45f);
        NumberAxis ns = numberAxis("nanoseconds per lookup (lower is better)", "#,##0");
        CategoryPlot plot = plot(data, categories, ns, renderer);
        plot.setOrientation(PlotOrientation.HORIZONTAL);
        LegendItemCollection legend = new LegendItemCollection();
        legend.add(legendBox("shardring (HashRing.route)", SHARDRING));
        legend.add(legendBox("contenders, same keys and 100 nodes", CONTENDER));
        legend.add(new LegendItem("error bars: JMH 99.9% confidence interval", null, null, null,
                new Rectangle2D.Double(-6, -0.5, 12, 1), TEXT));
        plot.setFixedLegendItems(legend);
        plot.setRangeAxisLocation(AxisLocation.BOTTOM_OR_LEFT);
        String source = RESULTS_PATH + file.getFileName();
        return new Chart("ring-lookup", chart("Ring lookup: shardring against the contenders", plot,
                "JMH average time, one lookup per operation over the same 4,096 keys, 100 nodes or buckets, 2 cores.",
                source + " (run " + when(run.path("timestamp").asText()) + " UTC)"), source);
    }

    // ---- router

    /** Transactions per second through the router, hand-routed pools and the router without guard, per run. */
    static Chart routerThroughput(List<Path> files) {
        DefaultCategoryDataset data = new DefaultCategoryDataset();
        for (Path file : files) {
            JsonNode run = read(file);
            String column = when(stamp(file)) + "\nrouter / hand-routed " + fixed(run.path("ratio").asDouble(), 3);
            data.addValue(run.path("tps_router").asDouble(), "router (ShardedDataSource)", column);
            data.addValue(run.path("tps_direct").asDouble(), "hand-routed HikariCP pools", column);
            data.addValue(run.path("tps_router_noguard").asDouble(), "router, ownership guard dropped", column);
        }
        BarRenderer renderer = runBars(SHARDRING, CONTENDER, THIRD);
        CategoryAxis runs = categoryAxis("run (UTC)");
        NumberAxis tps = numberAxis("transactions per second (median of rounds)", "#,##0");
        CategoryPlot plot = plot(data, runs, tps, renderer);
        tps.setUpperMargin(0.1);
        String source = sources(files, "router");
        return new Chart("router-throughput",
                chart("Router throughput: ShardedDataSource against hand-routed pools", plot,
                        "OLTP mix (70% select, 20% insert, 10% update), 16 threads, 4 databases of one embedded "
                                + "PostgreSQL; 2 cores shared with the load generator.", source), source);
    }

    // ---- move

    /** The RESULT line's ratio and pause p99 of every move run, oldest first. */
    static Chart moveHistory(List<Path> files) {
        DefaultCategoryDataset ratio = new DefaultCategoryDataset();
        DefaultCategoryDataset pause = new DefaultCategoryDataset();
        String ratioSeries = "ratio: mover rows/s ÷ COPY rows/s under the same writers (left axis)";
        String pauseSeries = "write pause p99 of moving keys, ms (right axis)";
        for (Path file : files) {
            JsonNode run = read(file);
            String column = shortWhen(stamp(file));
            // the figures of the RESULT line: the baseline under writers, the pause corrected for coordinated omission
            ratio.addValue(first(run, "ratio_vs_copy_under_writers", "ratio"), ratioSeries, column);
            pause.addValue(first(run, "pause_corrected_p99_ms", "pause_p99_ms"), pauseSeries, column);
        }
        LineAndShapeRenderer line = lineRenderer(SHARDRING);
        BarRenderer bars = new BarRenderer();
        styleBars(bars);
        bars.setSeriesPaint(0, new Color(0xff, 0xbb, 0x78));
        CategoryAxis runs = categoryAxis("run (UTC, month-day hour:minute)");
        runs.setCategoryLabelPositions(CategoryLabelPositions.UP_45);
        NumberAxis ratioAxis = numberAxis("ratio (higher is better)", "0.0");
        CategoryPlot plot = plot(ratio, runs, ratioAxis, line);
        NumberAxis pauseAxis = numberAxis("pause p99, ms (lower is better)", "#,##0");
        plot.setRangeAxis(1, pauseAxis);
        plot.setDataset(1, pause);
        plot.setRenderer(1, bars);
        plot.mapDatasetToRangeAxis(1, 1);
        // the bars behind the line
        plot.setDatasetRenderingOrder(DatasetRenderingOrder.REVERSE);
        ratioAxis.setRange(0.0, Math.max(1.0, max(ratio) * 1.1));
        String source = sources(files, "move");
        return new Chart("move-history", chart("Online move: throughput ratio and write pause, run by run", plot,
                "1,200,000 rows moved to a new node while 4 writers upsert through the router; the code changed "
                        + "between runs.", source), source);
    }

    // ---- scale

    /** The ownership guard's cost per row (no guard, the guard, the old chain over 64 and 1,000 arcs). */
    static Chart scaleGuard(Path file) {
        JsonNode run = read(file);
        JsonNode guard = run.path("guard");
        int arcs = guard.path("owned_arcs").asInt(64);
        DefaultCategoryDataset data = new DefaultCategoryDataset();
        List<Boolean> ours = new ArrayList<>();
        String[][] bars = {
            {"us_per_row_no_guard", "no guard (trigger dropped)"},
            {"us_per_row_guard", "shardring's guard (width_bucket), the node's " + arcs + " arcs"},
            {"us_per_row_old_chain", "old guard (BETWEEN ... OR chain), same " + arcs + " arcs"},
            {"us_per_row_old_chain_1000", "old guard (BETWEEN ... OR chain), 1,000 arcs"},
        };
        for (String[] bar : bars) {
            if (guard.has(bar[0])) {
                data.addValue(guard.path(bar[0]).asDouble(), "µs per row", bar[1]);
                ours.add(bar[0].equals("us_per_row_guard"));
            }
        }
        BarRenderer renderer = new BarRenderer() {
            @Override
            public Paint getItemPaint(int row, int column) {
                return ours.get(column) ? SHARDRING : CONTENDER;
            }
        };
        styleBars(renderer);
        valueLabels(renderer, "0.000", true);
        CategoryAxis categories = categoryAxis(null);
        categories.setMaximumCategoryLabelWidthRatio(0.4f);
        NumberAxis us = numberAxis("microseconds per row inserted (median of rounds; lower is better)", "0.0");
        CategoryPlot plot = plot(data, categories, us, renderer);
        plot.setOrientation(PlotOrientation.HORIZONTAL);
        us.setUpperMargin(0.12);
        plot.setRangeAxisLocation(AxisLocation.BOTTOM_OR_LEFT);
        LegendItemCollection legend = new LegendItemCollection();
        legend.add(legendBox("shardring's guard", SHARDRING));
        legend.add(legendBox("baselines: no guard, the old guard", CONTENDER));
        plot.setFixedLegendItems(legend);
        String nodes = String.format(Locale.ROOT, "%,d", run.path("metrics").path("nodes").asInt());
        String source = RESULTS_PATH + file.getFileName();
        return new Chart("scale-guard", chart("Ownership guard: cost per row, one node of a " + nodes + "-node ring",
                plot, "COPY of " + String.format(Locale.ROOT, "%,d", guard.path("rows_per_round").asInt())
                        + " rows a round into a table of the node with the most arcs, one embedded PostgreSQL "
                        + guard.path("postgresql").asText() + "; the other nodes are simulated.",
                source + " (run " + when(run.path("timestamp").asText()) + " UTC)"), source);
    }

    // ---- replicas

    /** Read rates at SECONDARY and PRIMARY and the replication lag p99, per replicas run. */
    static Chart replicas(List<Path> files) {
        DefaultCategoryDataset reads = new DefaultCategoryDataset();
        DefaultCategoryDataset lag = new DefaultCategoryDataset();
        for (Path file : files) {
            JsonNode run = read(file);
            String column = when(stamp(file)) + "\nfailover " + fixed(run.path("failover_ms").asDouble(), 0)
                    + " ms";
            reads.addValue(run.path("read_tps_secondary").asDouble(), "reads/s at SECONDARY (copies)", column);
            reads.addValue(run.path("read_tps_primary").asDouble(), "reads/s at PRIMARY", column);
            lag.addValue(run.path("lag_p99_ms").asDouble(), "replication lag p99, ms (right axis)", column);
        }
        BarRenderer bars = runBars(SHARDRING, CONTENDER);
        CategoryAxis runs = categoryAxis("run (UTC)");
        NumberAxis tps = numberAxis("reads per second (higher is better)", "#,##0");
        CategoryPlot plot = plot(reads, runs, tps, bars);
        NumberAxis lagAxis = numberAxis("lag p99, ms (lower is better)", "0");
        lagAxis.setAutoRangeIncludesZero(true);
        lagAxis.setUpperMargin(0.3);
        plot.setRangeAxis(1, lagAxis);
        plot.setDataset(1, lag);
        plot.setRenderer(1, lineRenderer(SECOND));
        plot.mapDatasetToRangeAxis(1, 1);
        plot.setDatasetRenderingOrder(DatasetRenderingOrder.FORWARD);
        tps.setUpperMargin(0.1);
        String source = sources(files, "replicas");
        return new Chart("replicas", chart("Replica reads: SECONDARY against PRIMARY, and replication lag", plot,
                "4 embedded PostgreSQL nodes in 3 zones on 2 cores, replication factor 2, 4 readers; failover: "
                        + "kill of a primary to the first read of its keys from a copy.", source), source);
    }

    // ---- files

    /** {@code SUITE-latest.json}, or else the newest timestamped run. */
    static Optional<Path> latest(Path results, String suite) throws IOException {
        Path latest = results.resolve(suite + "-latest.json");
        if (Files.isRegularFile(latest)) {
            return Optional.of(latest);
        }
        List<Path> runs = history(results, suite);
        return runs.isEmpty() ? Optional.empty() : Optional.of(runs.get(runs.size() - 1));
    }

    /** The timestamped runs of a suite, oldest first ({@code SUITE-latest.json} is a copy of the newest). */
    static List<Path> history(Path results, String suite) throws IOException {
        if (!Files.isDirectory(results)) {
            return List.of();
        }
        try (Stream<Path> files = Files.list(results)) {
            return files.filter(f -> {
                Matcher m = STAMPED.matcher(f.getFileName().toString());
                return m.matches() && m.group(1).equals(suite);
            }).sorted().toList();
        }
    }

    private static JsonNode read(Path file) {
        try {
            return JSON.readTree(file.toFile());
        } catch (IOException e) {
            throw new UncheckedIOException("cannot read " + file, e);
        }
    }

    private static String stamp(Path file) {
        Matcher m = STAMPED.matcher(file.getFileName().toString());
        if (!m.matches()) {
            throw new IllegalArgumentException("not a timestamped result file: " + file);
        }
        return m.group(2);
    }

    private static String sources(List<Path> files, String suite) {
        if (files.size() == 1) {
            return RESULTS_PATH + files.get(0).getFileName();
        }
        return RESULTS_PATH + suite + "-*.json (" + files.size() + " runs, " + when(stamp(files.get(0))) + " to "
                + when(stamp(files.get(files.size() - 1))) + " UTC)";
    }

    private static String when(String stamp) {
        return ZonedDateTime.parse(stamp, STAMP).format(DAY_TIME);
    }

    private static String shortWhen(String stamp) {
        return ZonedDateTime.parse(stamp, STAMP).format(SHORT);
    }

    private static double first(JsonNode run, String key, String fallback) {
        return (run.has(key) ? run.path(key) : run.path(fallback)).asDouble();
    }

    private static double max(DefaultCategoryDataset data) {
        double max = 0;
        for (int r = 0; r < data.getRowCount(); r++) {
            for (int c = 0; c < data.getColumnCount(); c++) {
                Number v = data.getValue(r, c);
                if (v != null) {
                    max = Math.max(max, v.doubleValue());
                }
            }
        }
        return max;
    }

    // ---- formats and styles

    private static NumberFormat format(String pattern) {
        return new DecimalFormat(pattern, DecimalFormatSymbols.getInstance(Locale.ROOT));
    }

    private static String ns(double v) {
        return format(v >= 100 ? "#,##0" : v >= 10 ? "0.0" : "0.00").format(v);
    }

    private static String fixed(double v, int decimals) {
        return String.format(Locale.ROOT, "%." + decimals + "f", v);
    }

    /** The chart with its title, legend (top), a line of what was measured and the source line (bottom). */
    private static JFreeChart chart(String title, CategoryPlot plot, String note, String sources) {
        JFreeChart chart = new JFreeChart(title, TITLE_FONT, plot, false);
        chart.setBackgroundPaint(Color.WHITE);
        chart.setPadding(new RectangleInsets(8, 8, 8, 12));
        chart.getTitle().setPaint(TEXT);
        LegendTitle legend = new LegendTitle(plot);
        legend.setPosition(RectangleEdge.TOP);
        legend.setItemFont(LABEL_FONT);
        legend.setItemPaint(TEXT);
        legend.setFrame(BlockBorder.NONE);
        legend.setBackgroundPaint(Color.WHITE);
        legend.setMargin(new RectangleInsets(4, 0, 4, 0));
        chart.addSubtitle(legend);
        // bottom titles stack upwards in the order added: the source line last of all
        chart.addSubtitle(caption("Source: " + sources, 2));
        chart.addSubtitle(caption(note, 8));
        return chart;
    }

    private static TextTitle caption(String text, double top) {
        TextTitle caption = new TextTitle(text, CAPTION_FONT);
        caption.setPaint(TEXT);
        caption.setPosition(RectangleEdge.BOTTOM);
        caption.setHorizontalAlignment(HorizontalAlignment.LEFT);
        caption.setTextAlignment(HorizontalAlignment.LEFT);
        caption.setMargin(new RectangleInsets(top, 0, 0, 0));
        return caption;
    }

    private static CategoryPlot plot(org.jfree.data.category.CategoryDataset data, CategoryAxis domain,
            NumberAxis range, org.jfree.chart.renderer.category.CategoryItemRenderer renderer) {
        CategoryPlot plot = new CategoryPlot(data, domain, range, renderer);
        plot.setBackgroundPaint(Color.WHITE);
        plot.setOutlineVisible(false);
        plot.setRangeGridlinePaint(GRID);
        plot.setRangeGridlineStroke(new BasicStroke(1f));
        plot.setDomainGridlinesVisible(false);
        plot.setAxisOffset(RectangleInsets.ZERO_INSETS);
        return plot;
    }

    private static CategoryAxis categoryAxis(String label) {
        CategoryAxis axis = new CategoryAxis(label);
        axis.setLabelFont(LABEL_FONT);
        axis.setLabelPaint(TEXT);
        axis.setTickLabelFont(TICK_FONT);
        axis.setTickLabelPaint(TEXT);
        axis.setMaximumCategoryLabelLines(3);
        axis.setCategoryMargin(0.25);
        axis.setLowerMargin(0.02);
        axis.setUpperMargin(0.02);
        return axis;
    }

    private static NumberAxis numberAxis(String label, String pattern) {
        NumberAxis axis = new NumberAxis(label);
        axis.setLabelFont(LABEL_FONT);
        axis.setLabelPaint(TEXT);
        axis.setTickLabelFont(TICK_FONT);
        axis.setTickLabelPaint(TEXT);
        // not the machine's locale: the same digits everywhere
        axis.setNumberFormatOverride(format(pattern));
        axis.setAutoRangeIncludesZero(true);
        return axis;
    }

    /** Grouped bars per run: one paint per series, thin gaps, whole-number value labels. */
    private static BarRenderer runBars(Paint... series) {
        BarRenderer renderer = new BarRenderer();
        styleBars(renderer);
        for (int i = 0; i < series.length; i++) {
            renderer.setSeriesPaint(i, series[i]);
        }
        renderer.setItemMargin(0.05);
        valueLabels(renderer, "#,##0", false);
        return renderer;
    }

    private static void styleBars(BarRenderer renderer) {
        renderer.setBarPainter(new StandardBarPainter());
        renderer.setShadowVisible(false);
        renderer.setDrawBarOutline(false);
        renderer.setDefaultItemLabelFont(TICK_FONT);
        renderer.setDefaultItemLabelPaint(TEXT);
    }

    private static void valueLabels(BarRenderer renderer, String pattern, boolean horizontal) {
        renderer.setDefaultItemLabelGenerator(new StandardCategoryItemLabelGenerator("{2}", format(pattern)));
        renderer.setDefaultItemLabelsVisible(true);
        renderer.setDefaultPositiveItemLabelPosition(horizontal
                ? new ItemLabelPosition(ItemLabelAnchor.OUTSIDE3, TextAnchor.CENTER_LEFT)
                : new ItemLabelPosition(ItemLabelAnchor.OUTSIDE12, TextAnchor.BOTTOM_CENTER));
        renderer.setItemLabelAnchorOffset(4);
    }

    private static LineAndShapeRenderer lineRenderer(Color color) {
        LineAndShapeRenderer renderer = new LineAndShapeRenderer(true, true);
        renderer.setSeriesPaint(0, color);
        renderer.setSeriesStroke(0, new BasicStroke(2f));
        renderer.setSeriesShape(0, new Ellipse2D.Double(-4, -4, 8, 8));
        return renderer;
    }

    private static LegendItem legendBox(String label, Color color) {
        return new LegendItem(label, null, null, null, new Rectangle2D.Double(-6, -6, 12, 12), color);
    }
}
