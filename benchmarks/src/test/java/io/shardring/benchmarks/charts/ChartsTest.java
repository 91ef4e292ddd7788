package io.shardring.benchmarks.charts;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.IOException;
import java.io.StringReader;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import javax.xml.XMLConstants;
import javax.xml.parsers.DocumentBuilderFactory;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.w3c.dom.Document;
import org.w3c.dom.Element;
import org.w3c.dom.NodeList;
import org.xml.sax.InputSource;

/** Draws the charts from the committed results in {@code benchmarks/results} and reads the SVGs back. */
class ChartsTest {

    /** Surefire runs in the module's directory; its basedir property says so too. */
    private static final Path RESULTS = Path.of(System.getProperty("basedir", ".")).resolve("results");

    /** Each chart, and texts it must show: title, series, axis labels, the caption's source. */
    private static final Map<String, List<String>> EXPECTED = new LinkedHashMap<>();

    static {
        EXPECTED.put("ring-lookup", List.of("Ring lookup", "shardring, text key", "JumpBackHash (XXH3), text key",
                "Guava consistentHash", "seed-style ring", "allgood-consistent-hash", "shardring, bigint key",
                "nanoseconds per lookup", "Source: benchmarks/results/ring-latest.json"));
        EXPECTED.put("router-throughput", List.of("Router throughput", "router (ShardedDataSource)",
                "hand-routed HikariCP pools", "router, ownership guard dropped", "transactions per second",
                "Source: benchmarks/results/router-*.json"));
        EXPECTED.put("move-history", List.of("Online move", "ratio: mover rows/s", "write pause p99",
                "pause p99, ms", "ratio (higher is better)", "Source: benchmarks/results/move-*.json"));
        EXPECTED.put("scale-guard", List.of("Ownership guard", "no guard", "shardring's guard (width_bucket)",
                "1,000 arcs", "microseconds per row", "Source: benchmarks/results/scale-latest.json"));
        EXPECTED.put("replicas", List.of("Replica reads", "reads/s at SECONDARY", "reads/s at PRIMARY",
                "replication lag p99", "reads per second", "lag p99, ms", "Source: benchmarks/results/replicas-*.json"));
    }

    @TempDir
    static Path out;

    private static List<Path> written;

    @BeforeAll
    static void draw() throws IOException {
        assertThat(RESULTS.resolve("ring-latest.json")).as("the committed results").isRegularFile();
        written = Charts.write(RESULTS, out);
    }

    @Test
    void writesOneSvgPerChart() {
        assertThat(written).extracting(p -> p.getFileName().toString())
                .containsExactlyElementsOf(EXPECTED.keySet().stream().map(n -> n + ".svg").toList());
    }

    @Test
    void eachSvgParsesAndShowsItsLabels() throws Exception {
        for (Map.Entry<String, List<String>> chart : EXPECTED.entrySet()) {
            String svg = Files.readString(out.resolve(chart.getKey() + ".svg"), StandardCharsets.UTF_8);
            Document doc = parse(svg);
            Element root = doc.getDocumentElement();
            assertThat(root.getLocalName()).as(chart.getKey()).isEqualTo("svg");
            assertThat(root.getNamespaceURI()).as(chart.getKey()).isEqualTo("http://www.w3.org/2000/svg");
            assertThat(root.getAttribute("viewBox")).as(chart.getKey()).isNotEmpty();
            StringBuilder texts = new StringBuilder();
            NodeList nodes = doc.getElementsByTagNameNS("http://www.w3.org/2000/svg", "text");
            for (int i = 0; i < nodes.getLength(); i++) {
                texts.append(nodes.item(i).getTextContent()).append('\n');
            }
            assertThat(texts.toString()).as(chart.getKey()).contains(chart.getValue());
        }
    }

    @Test
    void redrawingTheSameResultsGivesTheSameBytes(@TempDir Path again) throws IOException {
        Charts.write(RESULTS, again);
        for (String name : EXPECTED.keySet()) {
            assertThat(Files.readString(again.resolve(name + ".svg")))
                    .as(name).isEqualTo(Files.readString(out.resolve(name + ".svg")));
        }
    }

    private static Document parse(String svg) throws Exception {
        DocumentBuilderFactory factory = DocumentBuilderFactory.newInstance();
        factory.setNamespaceAware(true);
        factory.setFeature(XMLConstants.FEATURE_SECURE_PROCESSING, true);
        factory.setFeature("http://apache.org/xml/features/disallow-doctype-decl", true);
        return factory.newDocumentBuilder().parse(new InputSource(new StringReader(svg)));
    }
}
