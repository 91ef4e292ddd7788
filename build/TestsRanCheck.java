import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Stream;
import javax.xml.stream.XMLInputFactory;
import javax.xml.stream.XMLStreamConstants;
import javax.xml.stream.XMLStreamException;
import javax.xml.stream.XMLStreamReader;

/**
 * Fails the build when a test class under {@code src/test/java} got no Surefire report with at least one test,
 * which is what happens when its name matches none of Surefire's includes: Surefire skips it without a word, and a
 * whole class of tests silently stops running.
 *
 * <p>Run by the parent pom in the verify phase of every module, as a single-file program so that it needs no module,
 * plugin or dependency of its own:
 * <pre>java build/TestsRanCheck.java TEST_SOURCE_DIR REPORTS_DIR --since=BUILD_START_EPOCH_MILLIS</pre>
 *
 * <p>A class holds tests when its file uses one of the JUnit 5 test annotations ({@code @Test},
 * {@code @ParameterizedTest}, {@code @RepeatedTest}, {@code @TestFactory}, {@code @TestTemplate}), JUnit 4's
 * {@code @Test}, or jqwik's {@code @Property} / {@code @Example}, resolved through the file's imports; nested classes
 * count for their top-level class. Abstract classes and interfaces are exempt: they run through their subclasses.
 * A class ran when a report lists a test case of it or of one of its nested classes (skipped ones included: the
 * class was picked up; reports with a {@code reportNameSuffix}, such as the pg15 runs, count too), and only reports
 * written during this build count, so that reports left by an earlier build hide nothing.
 */
public final class TestsRanCheck {

    /** Simple name to the fully qualified names that make a method a test. */
    private static final Map<String, Set<String>> TEST_ANNOTATIONS = Map.of(
            "Test", Set.of("org.junit.jupiter.api.Test", "org.junit.Test"),
            "ParameterizedTest", Set.of("org.junit.jupiter.params.ParameterizedTest"),
            "RepeatedTest", Set.of("org.junit.jupiter.api.RepeatedTest"),
            "TestFactory", Set.of("org.junit.jupiter.api.TestFactory"),
            "TestTemplate", Set.of("org.junit.jupiter.api.TestTemplate"),
            "Property", Set.of("net.jqwik.api.Property"),
            "Example", Set.of("net.jqwik.api.Example"));

    /** The includes of maven-surefire-plugin in the parent pom.xml, for the advice in the failure message. */
    private static final List<String> INCLUDES = List.of(
            "**/Test*.java", "**/*Test.java", "**/*Tests.java", "**/*TestCase.java", "**/*Properties.java");

    private static final Pattern PACKAGE = Pattern.compile("\\bpackage\\s+([\\w.]+)\\s*;");
    private static final Pattern IMPORT = Pattern.compile("\\bimport\\s+([\\w.]+(?:\\s*\\.\\s*\\*)?)\\s*;");
    private static final Pattern ANNOTATION = Pattern.compile("@\\s*([A-Za-z_$][\\w$]*(?:\\s*\\.\\s*[A-Za-z_$][\\w$]*)*)");

    /**
     * Prefix of the build start argument. A prefix because Maven hands an argument that is nothing but
     * {@code ${session.request.startTime.time}} over as a Long, which exec-maven-plugin cannot take.
     */
    private static final String SINCE = "--since=";

    /** How long a report may predate the build start and still count: file systems round modification times. */
    private static final long CLOCK_SLACK_MILLIS = 2_000;

    private TestsRanCheck() {
    }

    public static void main(String[] args) throws IOException {
        if (args.length != 3 || !args[2].startsWith(SINCE)) {
            fail("usage: java TestsRanCheck.java TEST_SOURCE_DIR REPORTS_DIR " + SINCE + "BUILD_START_EPOCH_MILLIS");
        }
        Path sources = Path.of(args[0]);
        Path reports = Path.of(args[1]);
        long buildStart;
        try {
            buildStart = Long.parseLong(args[2].substring(SINCE.length()));
        } catch (NumberFormatException e) {
            fail("TestsRanCheck: " + SINCE + " must give the build start in epoch milliseconds, was: " + args[2]);
            return;
        }

        Map<String, Path> testClasses = testClasses(sources);
        if (testClasses.isEmpty()) {
            System.out.println("TestsRanCheck: no test classes under " + sources);
            return;
        }
        Set<String> ran = classesWithReports(reports, buildStart - CLOCK_SLACK_MILLIS);
        Map<String, Path> missed = new TreeMap<>(testClasses);
        missed.keySet().removeAll(ran);
        if (missed.isEmpty()) {
            System.out.println("TestsRanCheck: all " + testClasses.size() + " test classes under " + sources
                    + " have a Surefire report with tests");
            return;
        }
        StringBuilder message = new StringBuilder("TestsRanCheck: Surefire ran no test of ")
                .append(missed.size()).append(missed.size() == 1 ? " class" : " classes")
                .append(" that ").append(missed.size() == 1 ? "has" : "have").append(" tests:\n");
        missed.forEach((name, file) -> {
            String simpleName = name.substring(name.lastIndexOf('.') + 1);
            message.append("  ").append(name).append("  (").append(file).append(")\n    ");
            if (matchesIncludes(simpleName)) {
                message.append("its name matches Surefire's includes, yet no report of this build lists a test of it:")
                        .append(" look for an <exclude> of it, a missing test engine (JUnit 4's @Test needs")
                        .append(" junit-vintage-engine, @Property needs jqwik) or a crashed test JVM\n");
            } else {
                message.append("its name matches none of Surefire's includes: rename it to end in Test (e.g. ")
                        .append(simpleName).append("Test), or add <include>**/").append(simpleName)
                        .append(".java</include> to the includes of maven-surefire-plugin in the parent pom.xml\n");
            }
        });
        message.append("Surefire's includes (parent pom.xml): ").append(String.join(", ", INCLUDES)).append(". A class")
                .append(" that only serves as a base for others should be abstract. Reports are read from ")
                .append(reports).append(" and count only if written during this build.");
        fail(message.toString());
    }

    /** Top-level classes under {@code sources} that hold tests, by fully qualified name. */
    private static Map<String, Path> testClasses(Path sources) throws IOException {
        Map<String, Path> found = new TreeMap<>();
        if (!Files.isDirectory(sources)) {
            return found;
        }
        List<Path> files;
        try (Stream<Path> walk = Files.walk(sources)) {
            files = walk.filter(file -> file.toString().endsWith(".java") && Files.isRegularFile(file)).toList();
        }
        for (Path file : files) {
            String fileName = file.getFileName().toString();
            String className = fileName.substring(0, fileName.length() - ".java".length());
            if (className.equals("package-info") || className.equals("module-info")) {
                continue;
            }
            String code = codeOnly(Files.readString(file, StandardCharsets.UTF_8));
            if (holdsTests(code) && !abstractOrInterface(code, className)) {
                Matcher pkg = PACKAGE.matcher(code);
                String packageName = pkg.find() ? pkg.group(1) : "";
                found.put(packageName.isEmpty() ? className : packageName + "." + className, file);
            }
        }
        return found;
    }

    private static boolean holdsTests(String code) {
        Set<String> imports = new HashSet<>();
        Matcher imported = IMPORT.matcher(code);
        while (imported.find()) {
            imports.add(imported.group(1).replaceAll("\\s+", ""));
        }
        Matcher annotation = ANNOTATION.matcher(code);
        while (annotation.find()) {
            String name = annotation.group(1).replaceAll("\\s+", "");
            if (name.equals("interface")) {
                continue; // an annotation type declaration
            }
            int dot = name.lastIndexOf('.');
            Set<String> candidates = TEST_ANNOTATIONS.get(name.substring(dot + 1));
            if (candidates == null) {
                continue;
            }
            if (dot >= 0) {
                if (candidates.contains(name)) {
                    return true;
                }
                continue;
            }
            for (String qualified : candidates) {
                String packageName = qualified.substring(0, qualified.lastIndexOf('.'));
                if (imports.contains(qualified) || imports.contains(packageName + ".*")) {
                    return true;
                }
            }
        }
        return false;
    }

    /** Whether the top-level type {@code className} is an abstract class or an interface. */
    private static boolean abstractOrInterface(String code, String className) {
        Matcher declaration = Pattern.compile("\\b(class|interface|enum|record)\\s+" + Pattern.quote(className) + "\\b")
                .matcher(code);
        if (!declaration.find()) {
            return false;
        }
        if (declaration.group(1).equals("interface")) {
            return true;
        }
        // its modifiers and annotations: everything since the end of the last import (or package) statement
        String before = code.substring(0, declaration.start());
        String modifiers = before.substring(before.lastIndexOf(';') + 1);
        return Pattern.compile("\\babstract\\b").matcher(modifiers).find();
    }

    /**
     * The source with comments and the contents of string, text block and character literals blanked out, so that
     * an {@code @Test} in a Javadoc example or a string does not count; line breaks are kept.
     */
    static String codeOnly(String source) {
        StringBuilder out = new StringBuilder(source.length());
        int i = 0;
        int n = source.length();
        while (i < n) {
            char c = source.charAt(i);
            if (c == '/' && i + 1 < n && source.charAt(i + 1) == '/') {
                while (i < n && source.charAt(i) != '\n') {
                    out.append(' ');
                    i++;
                }
            } else if (c == '/' && i + 1 < n && source.charAt(i + 1) == '*') {
                int end = source.indexOf("*/", i + 2);
                end = end < 0 ? n : end + 2;
                blank(source, i, end, out);
                i = end;
            } else if (source.startsWith("\"\"\"", i)) {
                int end = i + 3;
                while (end < n && !source.startsWith("\"\"\"", end)) {
                    end += source.charAt(end) == '\\' ? 2 : 1;
                }
                end = Math.min(n, end + 3);
                blank(source, i, end, out);
                i = end;
            } else if (c == '"' || c == '\'') {
                int end = i + 1;
                while (end < n && source.charAt(end) != c && source.charAt(end) != '\n') {
                    end += source.charAt(end) == '\\' ? 2 : 1;
                }
                end = Math.min(n, end + 1);
                blank(source, i, end, out);
                i = end;
            } else {
                out.append(c);
                i++;
            }
        }
        return out.toString();
    }

    private static void blank(String source, int from, int to, StringBuilder out) {
        for (int i = from; i < to; i++) {
            out.append(source.charAt(i) == '\n' ? '\n' : ' ');
        }
    }

    /**
     * Top-level class names of the tests in the {@code TEST-*.xml} reports under {@code reports} written at or after
     * {@code since}.
     */
    private static Set<String> classesWithReports(Path reports, long since) throws IOException {
        Set<String> ran = new HashSet<>();
        if (!Files.isDirectory(reports)) {
            return ran;
        }
        List<Path> files;
        try (Stream<Path> list = Files.list(reports)) {
            files = list.filter(file -> {
                String name = file.getFileName().toString();
                return name.startsWith("TEST-") && name.endsWith(".xml");
            }).toList();
        }
        XMLInputFactory factory = XMLInputFactory.newFactory();
        factory.setProperty(XMLInputFactory.SUPPORT_DTD, false);
        for (Path file : files) {
            if (Files.getLastModifiedTime(file).toMillis() < since) {
                continue;
            }
            // Each <testcase> is a test Surefire ran (or skipped: it was picked up all the same). The suite's
            // tests="..." is not enough: it is 0 in the report of a class with @Nested tests, whose test cases name
            // the nested classes (Outer$Inner); jqwik's test cases, on the other hand, name their class without
            // its package, so those count for the suite.
            try (InputStream in = Files.newInputStream(file)) {
                XMLStreamReader xml = factory.createXMLStreamReader(in);
                String suite = null;
                int testCases = 0;
                while (xml.hasNext()) {
                    if (xml.next() != XMLStreamConstants.START_ELEMENT) {
                        continue;
                    }
                    if (xml.getLocalName().equals("testsuite") && suite == null) {
                        suite = xml.getAttributeValue(null, "name");
                    } else if (xml.getLocalName().equals("testcase")) {
                        testCases++;
                        String testClass = xml.getAttributeValue(null, "classname");
                        if (testClass != null && testClass.contains(".")) {
                            ran.add(topLevel(testClass));
                        }
                    }
                }
                xml.close();
                if (suite != null && testCases > 0) {
                    ran.add(topLevel(suite));
                }
            } catch (XMLStreamException e) {
                fail("TestsRanCheck: cannot read the Surefire report " + file + ": " + e.getMessage());
            }
        }
        return ran;
    }

    /** {@code a.B$C(pg15)} to {@code a.B}: without nested classes and a report name suffix. */
    private static String topLevel(String suite) {
        String name = suite.trim();
        int paren = name.indexOf('(');
        if (paren >= 0) {
            name = name.substring(0, paren);
        }
        int dollar = name.indexOf('$');
        return dollar >= 0 ? name.substring(0, dollar) : name;
    }

    /** Whether a class of this simple name matches {@link #INCLUDES}. */
    private static boolean matchesIncludes(String simpleName) {
        return simpleName.startsWith("Test") || simpleName.endsWith("Test") || simpleName.endsWith("Tests")
                || simpleName.endsWith("TestCase") || simpleName.endsWith("Properties");
    }

    private static void fail(String message) {
        System.err.println(message);
        System.exit(1);
    }
}
