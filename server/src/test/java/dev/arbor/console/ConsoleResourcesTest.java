package dev.arbor.console;

import static org.assertj.core.api.Assertions.assertThat;

import java.net.URL;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;

/**
 * The console's pages and assets, as packaged: no reference to another origin (the console works
 * offline and behind a strict Content Security Policy), no inline script or style, and each page
 * carries the structure the accessibility rules and browser tests rely on.
 */
class ConsoleResourcesTest {
  private static final Pattern EXTERNAL = Pattern.compile("(?i)(https?:)?//[a-z0-9.-]+\\.[a-z]{2,}|@import|url\\(\\s*['\"]?(https?:|//)");
  private static final Pattern INPUT_ID = Pattern.compile("<(input|select|textarea)[^>]*\\bid=\"([^\"]+)\"");

  private static List<Path> files() throws Exception {
    // Found through a page, so the main resources are walked (not this test's own package).
    URL page = ConsoleHandler.class.getResource("/dev/arbor/console/layout.html");
    assertThat(page).as("console resources on the classpath").isNotNull();
    try (Stream<Path> walk = Files.walk(Path.of(page.toURI()).getParent())) {
      // The directory also holds this package's classes; the console's own files are these.
      return walk.filter(Files::isRegularFile).filter(p -> p.toString().matches(".*\\.(html|js|css|svg)$")).toList();
    }
  }

  @Test
  void noPageOrAssetReferencesAnotherOrigin() throws Exception {
    List<Path> files = files();
    assertThat(files.stream().map(p -> p.getFileName().toString()))
        .contains("layout.html", "cluster.html", "groups.html", "repair.html", "properties.html", "console.js",
            "console.css");
    for (Path f : files) {
      // An SVG's namespace is a name the browser never fetches, not a reference.
      String text = Files.readString(f, StandardCharsets.UTF_8).replace("xmlns=\"http://www.w3.org/2000/svg\"", "");
      Matcher m = EXTERNAL.matcher(text);
      assertThat(m.find()).as(f + " references " + (m.hitEnd() ? "" : text.substring(m.start(), Math.min(text.length(), m.end() + 20))))
          .isFalse();
    }
  }

  @Test
  void everyPageHasNavigationLandmarksAndLabelledInputs() throws Exception {
    ConsolePages pages = ConsolePages.load();
    for (String page : ConsoleHandler.PAGES) {
      String html = new String(pages.page(page), StandardCharsets.UTF_8);
      assertThat(html).as(page).contains("<html lang=\"en\">", "<nav id=\"console-nav\"", "<main", "<h1>",
          "id=\"last-updated\"");
      for (String target : ConsoleHandler.PAGES) {
        assertThat(html).as(page + " links " + target).contains("href=\"/console/" + target + "\"");
      }
      assertThat(html).as(page + ": scripts come from files").doesNotContain("<script>", "style=", "onclick=");
      Matcher m = INPUT_ID.matcher(html);
      while (m.find()) {
        assertThat(html).as(page + ": a label for #" + m.group(2)).contains("<label for=\"" + m.group(2) + "\"");
      }
    }
  }

  @Test
  void eachPageIsTheSharedFrameWithItsOwnTitleScriptAndCurrentNavigationEntry() {
    ConsolePages pages = ConsolePages.load();
    for (ConsolePages.Page page : ConsolePages.ALL) {
      String html = new String(pages.page(page.name()), StandardCharsets.UTF_8);
      assertThat(html).as(page.name())
          .startsWith("<!DOCTYPE html>")
          .contains("<title>" + page.title() + " · Arbor console</title>",
              "<script src=\"/console/assets/" + page.name() + ".js\" defer></script>",
              "<body data-page=\"" + page.name() + "\">", "<h1>" + page.title() + "</h1>",
              "<a href=\"/console/" + page.name() + "\" aria-current=\"page\">")
          .doesNotContain("{{");
      assertThat(html.split("aria-current=", -1)).as(page.name() + ": one current entry").hasSize(2);
    }
    assertThat(pages.page("layout")).as("the frame itself is not a page").isNull();
  }

  @Test
  void anUnknownPlaceholderInTheFrameIsAPackagingErrorNotAnEmptyHole() {
    ConsolePages.Page page = ConsolePages.ALL.get(0);
    assertThat(ConsolePages.render("<p>{{content}}</p>", page, "{{title}}")).as("page text is not re-expanded")
        .isEqualTo("<p>{{title}}</p>");
    org.assertj.core.api.Assertions.assertThatThrownBy(() -> ConsolePages.render("{{titel}}", page, ""))
        .isInstanceOf(IllegalStateException.class).hasMessageContaining("unknown placeholder");
  }
}
