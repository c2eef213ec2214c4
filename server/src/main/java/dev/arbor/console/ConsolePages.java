package dev.arbor.console;

import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * The console's HTML pages, assembled once from one shared frame ({@code layout.html}: head, skip
 * link, navigation, heading, "last updated" line) and each page's own content
 * ({@code pages/NAME.html}), so a change to the frame or the navigation is one edit.
 */
final class ConsolePages {
  /** A page: the path segment under {@code /console/} (also its script's name) and its title. */
  record Page(String name, String title) {}

  static final List<Page> ALL = List.of(
      new Page("cluster", "Cluster"),
      new Page("groups", "Groups"),
      new Page("repair", "Repair"),
      new Page("properties", "Properties"));

  private static final String RESOURCES = "/dev/arbor/console/";

  private final Map<String, byte[]> rendered;

  private ConsolePages(Map<String, byte[]> rendered) {
    this.rendered = rendered;
  }

  /** Reads the frame and every page from the classpath; a missing resource is a packaging error. */
  static ConsolePages load() {
    String layout = text("layout.html");
    Map<String, byte[]> out = new LinkedHashMap<>();
    for (Page page : ALL) {
      out.put(page.name(), render(layout, page, text("pages/" + page.name() + ".html"))
          .getBytes(StandardCharsets.UTF_8));
    }
    return new ConsolePages(Map.copyOf(out));
  }

  static Set<String> names() {
    return ALL.stream().map(Page::name).collect(java.util.stream.Collectors.toUnmodifiableSet());
  }

  /** The page's HTML, or null when there is no page of that name. */
  byte[] page(String name) {
    return rendered.get(name);
  }

  static String render(String layout, Page page, String content) {
    StringBuilder nav = new StringBuilder();
    for (Page p : ALL) {
      nav.append("          <li><a href=\"/console/").append(p.name()).append('"')
          .append(p.equals(page) ? " aria-current=\"page\"" : "")
          .append('>').append(p.title()).append("</a></li>\n");
    }
    // Placeholders are replaced in one pass over the frame, so page text can never be re-expanded.
    Map<String, String> values = Map.of(
        "title", page.title(), "page", page.name(), "nav", nav.toString(), "content", content);
    StringBuilder html = new StringBuilder(layout.length() + content.length() + nav.length());
    int at = 0;
    while (true) {
      int open = layout.indexOf("{{", at);
      if (open < 0) {
        break;
      }
      int close = layout.indexOf("}}", open);
      String value = close < 0 ? null : values.get(layout.substring(open + 2, close));
      if (value == null) {
        throw new IllegalStateException("console layout: unknown placeholder at offset " + open);
      }
      html.append(layout, at, open).append(value);
      at = close + 2;
    }
    return html.append(layout, at, layout.length()).toString();
  }

  private static String text(String resource) {
    try (InputStream in = ConsolePages.class.getResourceAsStream(RESOURCES + resource)) {
      if (in == null) {
        throw new IllegalStateException("console resource missing from the jar: " + RESOURCES + resource);
      }
      return new String(in.readAllBytes(), StandardCharsets.UTF_8);
    } catch (IOException e) {
      throw new UncheckedIOException("reading console resource " + resource, e);
    }
  }
}
