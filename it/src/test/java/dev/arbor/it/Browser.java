package dev.arbor.it;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.Paths;
import java.time.Duration;
import java.util.Base64;
import java.util.List;
import java.util.Map;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.Function;
import java.util.logging.Level;
import java.util.logging.Logger;
import org.openqa.selenium.By;
import org.openqa.selenium.JavascriptExecutor;
import org.openqa.selenium.StaleElementReferenceException;
import org.openqa.selenium.WebDriver;
import org.openqa.selenium.WebElement;
import org.openqa.selenium.chrome.ChromeDriver;
import org.openqa.selenium.chrome.ChromeDriverService;
import org.openqa.selenium.chrome.ChromeOptions;
import org.openqa.selenium.logging.LogEntry;
import org.openqa.selenium.logging.LogType;
import org.openqa.selenium.support.ui.WebDriverWait;

/**
 * A headless Debian Chromium ({@code /usr/bin/chromium}) driven through Debian's chromedriver
 * ({@code /usr/bin/chromedriver}), both installed by {@code .ci/run}. Missing binaries fail the
 * test (never skip it), as a missing etcd does.
 *
 * <p>Selenium Manager never runs: it is consulted only when no driver path is given, and here the
 * driver executable and the browser binary are both explicit (it would try to download a browser
 * build, which this network does not allow). Every browser gets a fresh profile directory, and
 * the flags that stop Chromium's own background connections (sync, component updates, field
 * trials): on a closed network they are refused and slow every start.
 *
 * <p>Helpers: bounded waits ({@link #until}), full-page screenshots under {@code
 * target/screenshots}, axe-core's accessibility check ({@link #assertNoSeriousA11yViolations}),
 * and HTTP basic auth sent on every request through the DevTools protocol ({@link #basicAuth}).
 */
final class Browser implements AutoCloseable {
  /** Bound on any single wait for the page (poll cycles of the console are 2 s). */
  static final Duration WAIT = Duration.ofSeconds(30);
  private static final AtomicInteger SEQ = new AtomicInteger();
  /**
   * Held so the level sticks: Selenium warns at every start that it has no DevTools classes for
   * this Chromium version; the tests use only raw DevTools commands, which need none.
   */
  private static final Logger CDP_VERSION_LOG = Logger.getLogger("org.openqa.selenium.devtools.CdpVersionFinder");

  static {
    CDP_VERSION_LOG.setLevel(Level.SEVERE);
  }

  private final ChromeDriver driver;
  private final Path profile;

  private Browser(ChromeDriver driver, Path profile) {
    this.driver = driver;
    this.profile = profile;
  }

  /** The Chromium binary: {@code /usr/bin/chromium}, or {@code -Darbor.it.chromium=...}. */
  static Path chromium() {
    return Paths.get(System.getProperty("arbor.it.chromium", "/usr/bin/chromium"));
  }

  /** The chromedriver binary: {@code /usr/bin/chromedriver}, or {@code -Darbor.it.chromedriver=...}. */
  static Path chromedriver() {
    return Paths.get(System.getProperty("arbor.it.chromedriver", "/usr/bin/chromedriver"));
  }

  private static void requireExecutable(Path p, String property, String debianPackage) {
    if (!Files.isExecutable(p)) {
      throw new AssertionError(
          p + " not found or not executable: the browser tests need Debian's chromium and"
              + " chromium-driver (`apt-get install chromium chromium-driver`, as .ci/run does; package "
              + debianPackage + "), or -D" + property + "=/path/to/it");
    }
  }

  /** Starts the system's Chromium (see {@link #start(Path, Path)}). */
  static Browser start() {
    return start(chromium(), chromedriver());
  }

  /**
   * Starts headless {@code browser} through {@code driverBinary} with a fresh profile under
   * {@code target/it-work}; fails (never skips) when either is missing.
   */
  static Browser start(Path browser, Path driverBinary) {
    requireExecutable(browser, "arbor.it.chromium", "chromium");
    requireExecutable(driverBinary, "arbor.it.chromedriver", "chromium-driver");
    Path profile = ArborProcess.newDataDir("chromium-profile");
    ChromeOptions options = new ChromeOptions();
    options.setBinary(browser.toFile());
    options.addArguments(
        "--headless",
        "--no-sandbox", // the tests run as root in CI
        "--disable-gpu",
        "--disable-quic",
        "--no-first-run",
        "--disable-background-networking",
        "--disable-component-update",
        "--disable-sync",
        "--disable-dev-shm-usage",
        "--window-size=1280,900",
        "--user-data-dir=" + profile);
    // the page's console messages (script errors, failed loads), read by severeConsoleMessages()
    options.setCapability("goog:loggingPrefs", Map.of("browser", "ALL"));
    Path log = ArborProcess.logsDir().resolve("chromedriver-" + SEQ.incrementAndGet() + ".log");
    ChromeDriverService service =
        new ChromeDriverService.Builder()
            .usingDriverExecutable(driverBinary.toFile())
            .usingAnyFreePort()
            .withLogFile(log.toFile())
            .build();
    long t0 = System.nanoTime();
    ChromeDriver driver = new ChromeDriver(service, options);
    driver.manage().timeouts().pageLoadTimeout(WAIT).scriptTimeout(WAIT);
    System.out.printf("[browser] %s started in %d ms (driver log %s)%n",
        driver.getCapabilities().getBrowserVersion(), (System.nanoTime() - t0) / 1_000_000, log);
    return new Browser(driver, profile);
  }

  WebDriver driver() {
    return driver;
  }

  /** Loads {@code url} (returns once the document has loaded). */
  void open(String url) {
    driver.get(url);
  }

  String currentUrl() {
    return driver.getCurrentUrl();
  }

  /** Waits (at most {@link #WAIT}) until {@code condition} is truthy; fails naming {@code what}. */
  <T> T until(String what, Function<WebDriver, T> condition) {
    return until(what, WAIT, condition);
  }

  <T> T until(String what, Duration bound, Function<WebDriver, T> condition) {
    WebDriverWait wait = new WebDriverWait(driver, bound, Duration.ofMillis(100));
    wait.withMessage(() -> what + " (page " + driver.getCurrentUrl() + ")");
    // the console redraws its tables on every poll: an element found a moment ago may be gone
    wait.ignoring(StaleElementReferenceException.class);
    return wait.until(condition);
  }

  /** Clicks the first element matching {@code css} once it exists (again if a redraw replaced it). */
  void click(String css) {
    until("click on " + css, d -> {
      List<WebElement> found = d.findElements(By.cssSelector(css));
      if (found.isEmpty()) {
        return false;
      }
      found.get(0).click();
      return true;
    });
  }

  /**
   * {@code attribute} of every element matching {@code css}, read in one script (so from one
   * drawing of the page).
   */
  @SuppressWarnings("unchecked")
  List<String> attributes(String css, String attribute) {
    return (List<String>) script(
        "return Array.from(document.querySelectorAll(arguments[0])).map(e => e.getAttribute(arguments[1]));",
        css, attribute);
  }

  /** The text of the first element matching {@code css} ("" when there is none). */
  String text(String css) {
    Object t = script("const e = document.querySelector(arguments[0]); return e ? e.innerText : '';", css);
    return t == null ? "" : t.toString();
  }

  /** The first element matching {@code css}, waited for. */
  WebElement await(String css) {
    return until("element " + css, d -> {
      List<WebElement> found = d.findElements(By.cssSelector(css));
      return found.isEmpty() ? null : found.get(0);
    });
  }

  List<WebElement> all(String css) {
    return driver.findElements(By.cssSelector(css));
  }

  Object script(String js, Object... args) {
    return ((JavascriptExecutor) driver).executeScript(js, args);
  }

  /**
   * The SEVERE messages of the page's console since the last call (script errors, failed
   * requests); reading them clears them.
   */
  List<String> severeConsoleMessages() {
    return driver.manage().logs().get(LogType.BROWSER).getAll().stream()
        .filter(e -> e.getLevel().intValue() >= Level.SEVERE.intValue())
        .map(LogEntry::getMessage)
        .toList();
  }

  /** Every URL the current page loaded (document, scripts, styles, fetches), from its timeline. */
  @SuppressWarnings("unchecked")
  List<String> loadedUrls() {
    return (List<String>) script("return [location.href].concat("
        + "performance.getEntriesByType('resource').map(e => e.name));");
  }

  /**
   * Sends {@code Authorization: Basic ...} with every request of this browser from now on (pages,
   * scripts' fetches), as a browser does once its user answered the credentials prompt.
   */
  void basicAuth(String user, String password) {
    String token = Base64.getEncoder().encodeToString((user + ":" + password).getBytes(StandardCharsets.UTF_8));
    driver.executeCdpCommand("Network.enable", Map.of());
    driver.executeCdpCommand("Network.setExtraHTTPHeaders",
        Map.of("headers", Map.of("Authorization", "Basic " + token)));
  }

  /** Where screenshots go: {@code target/screenshots} (system property arbor.it.screenshots). */
  static Path screenshotsDir() {
    Path dir = Paths.get(System.getProperty("arbor.it.screenshots", "target/screenshots")).toAbsolutePath();
    try {
      return Files.createDirectories(dir);
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }

  /** A PNG of the whole page (beyond the window too) as {@code <name>.png}; returns its path. */
  Path screenshot(String name) {
    Map<String, Object> shot = driver.executeCdpCommand("Page.captureScreenshot",
        Map.of("format", "png", "captureBeyondViewport", true));
    byte[] png = Base64.getDecoder().decode((String) shot.get("data"));
    Path file = screenshotsDir().resolve(name + ".png");
    try {
      Files.write(file, png);
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
    System.out.printf("[browser] screenshot %s (%d bytes)%n", file, png.length);
    return file;
  }

  // ---------------------------------------------------------------------------------------------
  // Accessibility: axe-core, from npm (installed into target/browser by the build)
  // ---------------------------------------------------------------------------------------------

  /** One rule axe-core found broken: its id, impact, help text and (some of) the elements. */
  record Violation(String id, String impact, String help, List<String> targets) {
    boolean serious() {
      return "serious".equals(impact) || "critical".equals(impact);
    }

    @Override
    public String toString() {
      return impact + " " + id + ": " + help + " " + targets;
    }
  }

  private static String axeSource;

  private static synchronized String axeSource() {
    if (axeSource == null) {
      Path axe = Paths.get(System.getProperty("arbor.it.axe", "target/browser/node_modules/axe-core/axe.min.js"));
      if (!Files.isRegularFile(axe)) {
        throw new AssertionError(axe + " not found: the build installs axe-core with `npm ci` before the ITs"
            + " (it/pom.xml, execution npm-ci); run the ITs through Maven failsafe (./mvnw -B verify)");
      }
      try {
        axeSource = Files.readString(axe, StandardCharsets.UTF_8);
      } catch (IOException e) {
        throw new UncheckedIOException(e);
      }
    }
    return axeSource;
  }

  /** Runs axe-core (WCAG 2 A/AA rules and best practices) on the current page. */
  @SuppressWarnings("unchecked")
  List<Violation> axe() {
    if (!Boolean.TRUE.equals(script("return typeof window.axe === 'object'"))) {
      script(axeSource());
    }
    Object out = ((JavascriptExecutor) driver).executeAsyncScript("""
        const done = arguments[arguments.length - 1];
        axe.run(document, {resultTypes: ['violations']})
          .then(r => done(r.violations.map(v => ({
            id: v.id, impact: v.impact || '', help: v.help,
            targets: v.nodes.slice(0, 5).map(n => n.target.join(' '))}))))
          .catch(e => done('axe failed: ' + e));
        """);
    if (out instanceof String error) {
      throw new AssertionError(error);
    }
    return ((List<Map<String, Object>>) out).stream()
        .map(m -> new Violation((String) m.get("id"), (String) m.get("impact"), (String) m.get("help"),
            (List<String>) m.get("targets")))
        .toList();
  }

  /** Fails if axe-core finds a serious or critical violation; prints the lesser ones. */
  void assertNoSeriousA11yViolations(String page) {
    List<Violation> found = axe();
    found.stream().filter(v -> !v.serious())
        .forEach(v -> System.out.printf("[browser] %s: axe (not failing): %s%n", page, v));
    assertThat(found.stream().filter(Violation::serious).toList())
        .as("serious or critical accessibility violations on %s (axe-core)", page)
        .isEmpty();
  }

  @Override
  public void close() {
    try {
      driver.quit();
    } finally {
      ArborProcess.deleteDataDir(profile);
    }
  }
}
