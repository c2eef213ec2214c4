package dev.arbor.it;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.net.URISyntaxException;
import java.net.URL;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.Paths;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;
import org.junit.jupiter.api.Timeout;

/**
 * The browser harness the console tests rely on, checked on two static pages (test resources,
 * loaded as files): the accessibility check fails on a page with serious violations and passes
 * on a clean one, so the console's "no serious violations" means something; a script error
 * shows in the console messages; clicks and waits work; screenshots are real PNGs; a missing
 * Chromium fails with a clear message instead of skipping.
 */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
@Timeout(120)
class BrowserCheckIT {
  private Browser browser;

  @BeforeAll
  void start() {
    browser = Browser.start();
  }

  @AfterAll
  void stop() {
    if (browser != null) {
      browser.close();
    }
  }

  private static String page(String name) throws URISyntaxException {
    URL url = BrowserCheckIT.class.getResource("/browser/" + name);
    assertThat(url).as("test resource browser/%s", name).isNotNull();
    return Paths.get(url.toURI()).toUri().toString();
  }

  @Test
  void axeFindsTheSeriousViolationsOfABrokenPage() throws Exception {
    browser.open(page("inaccessible.html"));
    browser.await("main h1");
    assertThat(browser.axe())
        .filteredOn(Browser.Violation::serious)
        .extracting(Browser.Violation::id)
        .contains("label", "image-alt", "color-contrast", "html-has-lang");
    assertThatThrownBy(() -> browser.assertNoSeriousA11yViolations("inaccessible.html"))
        .isInstanceOf(AssertionError.class)
        .hasMessageContaining("image-alt");
    assertThat(browser.severeConsoleMessages()).anySatisfy(m -> assertThat(m).contains("notDefinedAnywhere"));
    assertThat(browser.severeConsoleMessages()).as("reading clears them").isEmpty();
  }

  @Test
  void aCleanPagePassesAndClicksAndScreenshotsWork() throws Exception {
    browser.open(page("accessible.html"));
    browser.await("#q").sendKeys("abc");
    browser.await("#go").click();
    browser.until("#out shows the click", d -> browser.await("#out").getText().equals("clicked abc"));
    browser.assertNoSeriousA11yViolations("accessible.html");
    assertThat(browser.severeConsoleMessages()).isEmpty();
    assertThat(browser.loadedUrls()).containsExactly(page("accessible.html"));
    Path png = browser.screenshot("browser-check-accessible");
    byte[] head = Files.readAllBytes(png);
    assertThat(head.length).isGreaterThan(1000);
    assertThat(new String(head, 1, 3, java.nio.charset.StandardCharsets.US_ASCII)).isEqualTo("PNG");
  }

  @Test
  void aMissingChromiumOrDriverFailsWithTheInstallCommand() {
    assertThatThrownBy(() -> Browser.start(Paths.get("/nonexistent/chromium"), Browser.chromedriver()))
        .isInstanceOf(AssertionError.class)
        .hasMessageContaining("/nonexistent/chromium")
        .hasMessageContaining("apt-get install chromium chromium-driver");
    assertThatThrownBy(() -> Browser.start(Browser.chromium(), Paths.get("/nonexistent/chromedriver")))
        .isInstanceOf(AssertionError.class)
        .hasMessageContaining("/nonexistent/chromedriver")
        .hasMessageContaining("chromium-driver");
  }
}
