package dev.arbor.it;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import dev.arbor.api.admin.v1.BuildTreesRequest;
import dev.arbor.api.admin.v1.ShardBuildResult;
import dev.arbor.api.admin.v1.TreeAdminServiceGrpc;
import dev.arbor.api.cluster.v1.DataNodeServiceGrpc;
import dev.arbor.api.cluster.v1.Key;
import dev.arbor.api.cluster.v1.ReadRequest;
import dev.arbor.api.cluster.v1.StoredProperty;
import dev.arbor.harness.ClusterOfProcesses;
import dev.arbor.transport.ChannelFactory;
import dev.arbor.transport.MessageLimits;
import io.grpc.ManagedChannel;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import java.util.stream.IntStream;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.MethodOrderer;
import org.junit.jupiter.api.Order;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;
import org.junit.jupiter.api.TestMethodOrder;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.openqa.selenium.By;
import org.openqa.selenium.support.ui.Select;

/**
 * The web console in a real headless Chromium against a real cluster: one etcd, three {@code
 * arbor data} JVMs and one {@code arbor liaison}, started once for the class. Data nodes run with
 * {@code --repair-schedule off} (only the rounds started from the page run); each builds its tree
 * of the group once after the first writes, so the tree is live and the matrix has roots.
 *
 * <p>Every page is loaded through the liaison and through a data node, checked for its hooks and
 * by axe-core (no serious or critical violation), and photographed into {@code
 * target/screenshots}. Then a replica is broken for real — {@code kill -9} of one data node,
 * writes through the liaison at consistency {@code one}, restart — and the Groups page must show
 * the shard as {@code disagree}; the repair button on that page must bring it back to {@code
 * agree}, and the stale node must then hold every write (read from it directly). The Repair page
 * lists the round and starts another one from its form; the Properties page queries by ids and by
 * criteria and shows each replica's version of a property with the winner.
 *
 * <p>The group keeps three copies of one shard ({@code replicas = 2}), so every data node is a
 * replica and any one can be the broken one.
 */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
@TestMethodOrder(MethodOrderer.OrderAnnotation.class)
@Timeout(150)
class ConsoleIT {
  private static final List<String> NODE_IDS = List.of("dn-1", "dn-2", "dn-3");
  private static final List<String> PAGES = List.of("cluster", "groups", "repair", "properties");
  private static final String G = "console_g";
  private static final String N = "item";
  /** The replica killed and left behind. */
  private static final String STALE = "dn-3";
  /** Bound on the page seeing a change (pages poll every 2 s; a round on 3 copies takes a few s). */
  private static final Duration CHANGE = Duration.ofSeconds(60);
  private static final HttpClient HTTP = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(2)).build();

  @RegisterExtension final ClusterTeardown teardown = new ClusterTeardown();

  private Path work;
  private ClusterOfProcesses cluster;
  private final Map<String, ArborProcess> dataNodes = new LinkedHashMap<>();
  private ArborProcess liaison;
  private Browser browser;
  /** Ids written while {@link #STALE} was down (set by the scenario that breaks it). */
  private List<String> missed = List.of();

  @BeforeAll
  @Timeout(240)
  void start() throws Exception {
    long t0 = System.nanoTime();
    work = ArborProcess.newDataDir("console");
    cluster = ArborProcess.cluster(work)
        .dataNodes(NODE_IDS)
        .dataNamePrefix("console-")
        .dataArgs(
            // a killed node stays registered (keeps its shard) for the whole class
            "--node-ttl", "10m", "--repair-schedule", "off")
        .liaison("console-liaison")
        .start();
    dataNodes.putAll(ArborProcess.of(cluster.dataNodes()));
    liaison = ArborProcess.of(cluster.liaison());
    System.out.printf("[console-it] etcd, 3 data nodes and the liaison up in %d ms%n", ms(t0));
    browser = Browser.start();
    api("POST", "/api/v1/group/schema", """
        {"group":{"metadata":{"name":"%s"},"catalog":"CATALOG_PROPERTY","resourceOpts":{"shardNum":1,"replicas":2}}}
        """.formatted(G));
    api("POST", "/api/v1/property/schema", """
        {"property":{"metadata":{"group":"%s","name":"%s"},"tags":[{"name":"name","type":"TAG_TYPE_STRING"},
         {"name":"colour","type":"TAG_TYPE_STRING"}]}}
        """.formatted(G, N));
    for (int i = 1; i <= 20; i++) {
      apply("p-" + i, i % 2 == 0 ? "green" : "blue");
    }
    // What `arbor tree build` does: from then on each replica's tree is live (follows every
    // write), and the matrix has roots to compare. Without it the first tree waits for the quick
    // build or the schedule, which may be an hour away.
    NODE_IDS.forEach(this::buildTree);
    System.out.printf("[console-it] cluster, browser and %d properties ready in %d ms%n", 20, ms(t0));
  }

  @AfterAll
  void stop() throws Exception {
    if (browser != null) {
      browser.close();
    }
    teardown.stop(cluster, work);
  }

  // ---------------------------------------------------------------------------------------------

  @Test
  @Order(1)
  void everyPageLoadsThroughTheLiaisonAndThroughADataNode() {
    for (var base : Map.of("liaison", liaison, "data-node", dataNodes.get("dn-1")).entrySet()) {
      String root = url(base.getValue(), "");
      browser.open(root + "/");
      browser.until("/ redirects to the cluster page", d -> d.getCurrentUrl().endsWith("/console/cluster"));
      for (String page : PAGES) {
        browser.open(root + "/console/" + page);
        String label = base.getKey() + " " + page;
        assertThat(browser.await("main h1").getText()).as("%s: h1", label).isNotBlank();
        assertThat(browser.await("html").getAttribute("lang")).as("%s: lang", label).isNotBlank();
        assertThat(browser.all("#console-nav a").stream().map(a -> a.getAttribute("href")).toList())
            .as("%s: navigation", label)
            .anySatisfy(h -> assertThat(h).endsWith("/console/cluster"))
            .anySatisfy(h -> assertThat(h).endsWith("/console/groups"))
            .anySatisfy(h -> assertThat(h).endsWith("/console/repair"))
            .anySatisfy(h -> assertThat(h).endsWith("/console/properties"));
        browser.until(label + ": #last-updated shows a poll", d -> browser.text("#last-updated").matches("(?s).*\\d.*"));
        pageReady(page, label);
        assertThat(browser.loadedUrls()).as("%s: everything from the node itself (works offline)", label)
            .isNotEmpty().allSatisfy(u -> assertThat(u).startsWith(root + "/"));
        // Pages link their own icon, so the browser's own /favicon.ico request (a 404) never happens.
        assertThat(browser.severeConsoleMessages())
            .as("%s: script errors or failed loads", label).isEmpty();
        browser.assertNoSeriousA11yViolations(label);
        browser.screenshot(base.getKey() + "-" + page);
      }
    }
  }

  /** What each page shows once its JSON arrived. */
  private void pageReady(String page, String label) {
    switch (page) {
      case "cluster" -> {
        browser.until(label + ": the three data nodes serving", d ->
            browser.all("table#nodes tr[data-node-id][data-role=data][data-health=serving]").size() == 3);
        assertThat(browser.attributes("table#nodes tr[data-node-id]", "data-node-id")).as(label).containsAll(NODE_IDS);
      }
      case "groups" -> {
        selectGroup();
        browser.until(label + ": shard 0 of " + G + " with a cell per replica",
            d -> browser.all("table#shard-matrix tr[data-shard='0'] td[data-node]").size() == 3);
      }
      case "repair" -> {
        browser.await("table#rounds");
        browser.await("form#repair-form button#repair-start");
      }
      case "properties" -> browser.await("form#query-form button#q-submit");
      default -> throw new AssertionError(page);
    }
  }

  @Test
  @Order(2)
  void aBrokenReplicaTurnsTheMatrixRed_theRepairButtonTurnsItGreen() throws Exception {
    browser.open(url(liaison, "/console/groups"));
    selectGroup();
    String row = "table#shard-matrix tr[data-shard='0']";
    waitAgreement(row, "agree", "the replicas agree after the first writes");

    long t0 = System.nanoTime();
    dataNodes.get(STALE).kill9();
    missed = IntStream.rangeClosed(1, 30).mapToObj(i -> "missed-" + i).toList();
    for (String id : missed) {
      apply(id, "red");
    }
    apply("p-1", "red"); // an overwrite it misses too
    dataNodes.put(STALE, dataNodes.get(STALE).restart());
    System.out.printf("[console-it] %s killed, %d writes missed, restarted in %d ms%n", STALE, missed.size() + 1, ms(t0));
    assertThat(read(STALE, missed)).as("%s holds none of the writes it missed", STALE).isEmpty();

    waitAgreement(row, "disagree", "the matrix shows the missed writes");
    browser.until("the stale replica's cell marked", d -> List.of("disagree", "missing")
        .contains(String.valueOf(browser.script("const td = document.querySelector(arguments[0]);"
            + " return td && td.getAttribute('data-state');", row + " td[data-node='" + STALE + "']"))));
    assertThat(browser.text(row + " td.agreement")).as("state in words, not colour alone").contains("disagree");
    browser.screenshot("groups-disagree");

    browser.click(row + " button[data-action=repair][data-group='" + G + "'][data-shard='0']");
    waitAgreement(row, "agree", "the repair started from the page converges");
    browser.until("every replica's cell agrees", d -> {
      List<String> states = browser.attributes(row + " td[data-node]", "data-state");
      return states.size() == 3 && states.stream().allMatch("agree"::equals);
    });
    browser.screenshot("groups-repaired");
    assertThat(read(STALE, missed)).as("%s after the repair", STALE).hasSize(missed.size());

    browser.open(url(liaison, "/console/repair"));
    String repaired = String.valueOf(missed.size() + 1);
    browser.until("the round is listed as ok with " + repaired + " properties repaired", d -> browser.script(
        "return Array.from(document.querySelectorAll('table#rounds tr[data-round-id][data-outcome=ok] td.repaired'))"
            + ".some(td => td.textContent.trim() === arguments[0]);", repaired).equals(Boolean.TRUE));
    browser.screenshot("repair-after-button");

    browser.open(url(liaison, "/console/groups"));
    selectGroup();
    browser.until("the shard's last successful repair with its age", CHANGE,
        d -> browser.text(row + " td.last-repair").contains("ago"));
  }

  @Test
  @Order(3)
  void theRepairFormStartsARoundAndShowsItsProgress() {
    browser.open(url(dataNodes.get("dn-1"), "/console/repair"));
    browser.until("#last-updated shows a poll", d -> browser.text("#last-updated").matches("(?s).*\\d.*"));
    int before = browser.all("table#rounds tr[data-round-id]").size();
    Select group = new Select(browser.await("select#repair-group"));
    browser.until(G + " offered", d -> group.getOptions().stream().anyMatch(o -> G.equals(o.getAttribute("value"))));
    group.selectByValue(G);
    browser.await("input#repair-shard").clear(); // empty: every shard of the group
    browser.click("button#repair-start");
    browser.until("#repair-progress says done", CHANGE, d -> browser.text("#repair-progress").contains("done"));
    browser.until("one more round listed", CHANGE,
        d -> browser.all("table#rounds tr[data-round-id]").size() > before);
    assertThat(browser.attributes("table#rounds tr[data-round-id]", "data-outcome").get(0))
        .as("newest round").isIn("ok", "running");
    browser.screenshot("repair-form-done");
  }

  @Test
  @Order(4)
  void thePropertiesPageQueriesAndShowsEachReplicasVersion() {
    browser.open(url(liaison, "/console/properties"));
    query("p-1,p-2", "");
    browser.until("rows p-1 and p-2", d -> browser.all("table#query-results tr[data-id]").size() == 2);
    assertThat(browser.attributes("table#query-results tr[data-id]", "data-id")).containsExactlyInAnyOrder("p-1", "p-2");

    query("", "colour=green");
    browser.until("the ten green properties", d -> browser.all("table#query-results tr[data-id]").size() == 10);
    assertThat(browser.attributes("table#query-results tr[data-id]", "data-id"))
        .allSatisfy(id -> assertThat(Integer.parseInt(id.substring(2)) % 2).isZero());

    query("p-1", "");
    browser.until("only row p-1", d -> browser.attributes("table#query-results tr[data-id]", "data-id").equals(List.of("p-1")));
    browser.click(browser.all("table#query-results tr[data-id='p-1'] a[data-action=versions]").isEmpty()
        ? "table#query-results tr[data-id='p-1']" : "table#query-results tr[data-id='p-1'] a[data-action=versions]");
    browser.until("one version per replica", d -> browser.all("table#versions tr[data-node]").size() == 3);
    assertThat(browser.attributes("table#versions tr[data-node]", "data-node")).containsExactlyInAnyOrderElementsOf(NODE_IDS);
    assertThat(browser.all("table#versions tr[data-node][data-winner=true]")).as("the winning copy").isNotEmpty();
    for (String node : NODE_IDS) {
      assertThat(browser.text("table#versions tr[data-node='" + node + "']"))
          .as("%s's copy of p-1: the overwrite %s missed, brought by the repair", node, STALE).contains("\"red\"");
    }
    assertThat(browser.text("#versions-reason")).as("why that copy wins").isNotBlank();
    browser.screenshot("properties-versions");
  }

  // ---------------------------------------------------------------------------------------------

  private void selectGroup() {
    Select select = new Select(browser.await("select#group-select"));
    browser.until(G + " in the group list",
        d -> select.getOptions().stream().anyMatch(o -> G.equals(o.getAttribute("value"))));
    if (!G.equals(select.getFirstSelectedOption().getAttribute("value"))) {
      select.selectByValue(G);
    }
  }

  private void waitAgreement(String rowCss, String agreement, String what) {
    browser.until(what + " (" + rowCss + " data-agreement=" + agreement + ")", CHANGE,
        d -> !d.findElements(By.cssSelector(rowCss + "[data-agreement='" + agreement + "']")).isEmpty());
  }

  private void query(String ids, String criteria) {
    browser.await("input#q-group").clear();
    browser.await("input#q-group").sendKeys(G);
    browser.await("input#q-name").clear();
    browser.await("input#q-name").sendKeys(N);
    browser.await("input#q-ids").clear();
    browser.await("input#q-ids").sendKeys(ids);
    browser.await("input#q-criteria").clear();
    browser.await("input#q-criteria").sendKeys(criteria);
    browser.await("button#q-submit").click();
  }

  private static String url(ArborProcess p, String path) {
    return "http://127.0.0.1:" + p.httpPort() + path;
  }

  /** One HTTP API call through the liaison; fails unless it answers 200. */
  private String api(String method, String path, String body) throws Exception {
    HttpRequest.Builder b = HttpRequest.newBuilder(URI.create(url(liaison, path))).timeout(Duration.ofSeconds(20))
        .header("Content-Type", "application/json");
    b.method(method, body == null ? HttpRequest.BodyPublishers.noBody() : HttpRequest.BodyPublishers.ofString(body));
    HttpResponse<String> r = HTTP.send(b.build(), HttpResponse.BodyHandlers.ofString());
    assertThat(r.statusCode()).as("%s %s -> %s", method, path, r.body()).isEqualTo(200);
    return r.body();
  }

  private void apply(String id, String colour) throws Exception {
    api("PUT", "/api/v1/property/data/" + G + "/" + N + "/" + id, """
        {"property":{"tags":[{"key":"name","value":{"str":{"value":"%s"}}},{"key":"colour","value":{"str":{"value":"%s"}}}]},
         "strategy":"STRATEGY_REPLACE"}
        """.formatted(id, colour));
  }

  /** The copies {@code node} stores of {@code ids}, read from it directly (its internal listener). */
  private Map<String, StoredProperty> read(String node, List<String> ids) {
    ManagedChannel ch = ChannelFactory.plaintext().open(dataNodes.get(node).internalTarget(), MessageLimits.MAX_MESSAGE_BYTES);
    try {
      ReadRequest.Builder r = ReadRequest.newBuilder();
      ids.forEach(id -> r.addKeys(Key.newBuilder().setGroup(G).setShard(0).setEntity(G + "/" + N + "/" + id)));
      Map<String, StoredProperty> out = new LinkedHashMap<>();
      for (StoredProperty p : DataNodeServiceGrpc.newBlockingStub(ch).withDeadlineAfter(20, TimeUnit.SECONDS)
          .read(r.build()).getPropertiesList()) {
        if (p.getDeleteTime() == 0) {
          out.put(p.getEntity(), p);
        }
      }
      return out;
    } finally {
      ch.shutdownNow();
    }
  }

  /** Builds {@code node}'s tree of shard 0 now (its admin port), waiting while it is BUSY. */
  private void buildTree(String node) {
    ManagedChannel ch = ChannelFactory.plaintext().open(dataNodes.get(node).grpcTarget(), MessageLimits.MAX_MESSAGE_BYTES);
    try {
      ShardBuildResult[] last = new ShardBuildResult[1];
      await("tree build of " + G + "/0 on " + node + " not BUSY").atMost(Duration.ofSeconds(60))
          .pollDelay(Duration.ZERO).pollInterval(Duration.ofMillis(200))
          .until(() -> {
            last[0] = TreeAdminServiceGrpc.newBlockingStub(ch).withDeadlineAfter(30, TimeUnit.SECONDS)
                .buildTrees(BuildTreesRequest.newBuilder().setGroup(G).setShard(0).build()).getResults(0);
            return !"BUSY".equals(last[0].getOutcome());
          });
      assertThat(last[0].getOutcome()).as("tree build on %s: %s", node, last[0].getMessage()).isIn("BUILT", "UNCHANGED");
    } finally {
      ch.shutdownNow();
    }
  }

  private static long ms(long t0) {
    return (System.nanoTime() - t0) / 1_000_000;
  }
}
