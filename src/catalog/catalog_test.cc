#include "catalog/catalog.h"

#include <filesystem>
#include <fstream>

#include <gmock/gmock.h>
#include <gtest/gtest.h>

namespace glimmer::catalog {
namespace {

using ::testing::HasSubstr;

ParseOptions Opts() {
  ParseOptions o;
  o.base_dir = "/srv/catalog";
  o.disk_formats = {"raw", "qcow2", "vhd"};
  o.container_formats = {"bare", "ovf"};
  return o;
}

StatusOr<Catalog> Parse(const std::string& text) { return ParseCatalog(text, "cat.yaml", Opts()); }

std::string Error(const std::string& text) {
  auto c = Parse(text);
  EXPECT_FALSE(c.ok()) << text;
  if (c.ok()) return "";
  EXPECT_EQ(c.status().code(), StatusCode::kInvalidArgument);
  return c.status().message();
}

constexpr char kFull[] = R"(
images:
  - name: Ubuntu 22.04
    os_distro: ubuntu
    os_version: 22.04
    login_user: ubuntu
    description: Ubuntu Server 22.04 LTS (Jammy Jellyfish)
    disk_format: qcow2
    min_disk: 3
    min_ram: 512
    properties: {hw_rng_model: virtio, hw_qemu_guest_agent: yes}
    tags: [lts, linux]
    source:
      url: https://cloud-images.ubuntu.com/jammy/current/jammy-server-cloudimg-amd64.img
      sha256: 0123456789ABCDEF0123456789abcdef0123456789abcdef0123456789abcdef
  - name: Debian 12
    disk_format: raw
    container_format: ovf
    source: {file: images/debian.raw}
)";

TEST(ParseCatalogTest, ParsesEveryField) {
  auto c = Parse(kFull);
  ASSERT_TRUE(c.ok()) << c.status().ToString();
  ASSERT_EQ(c->entries.size(), 2u);
  const Entry& u = c->entries[0];
  EXPECT_EQ(u.name, "Ubuntu 22.04");
  EXPECT_EQ(u.os_distro, "ubuntu");
  EXPECT_EQ(u.os_version, "22.04");  // scalar text kept as written, not a float
  EXPECT_EQ(u.login_user, "ubuntu");
  EXPECT_EQ(u.disk_format, "qcow2");
  EXPECT_EQ(u.container_format, "bare");  // default
  EXPECT_EQ(u.min_disk, 3);
  EXPECT_EQ(u.min_ram, 512);
  EXPECT_EQ(u.properties.at("hw_rng_model"), "virtio");
  EXPECT_EQ(u.properties.at("hw_qemu_guest_agent"), "yes");
  EXPECT_EQ(u.tags, (std::vector<std::string>{"linux", "lts"}));  // sorted
  EXPECT_TRUE(u.source.file.empty());
  EXPECT_EQ(u.source.sha256, "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef");
  auto props = u.ImageProperties();
  EXPECT_EQ(props.at("os_admin_user"), "ubuntu");
  EXPECT_EQ(props.at("os_distro"), "ubuntu");
  EXPECT_EQ(props.at("os_version"), "22.04");
  EXPECT_EQ(props.at("description"), "Ubuntu Server 22.04 LTS (Jammy Jellyfish)");
  EXPECT_EQ(props.size(), 6u);

  const Entry& d = c->entries[1];
  EXPECT_EQ(d.source.file, "/srv/catalog/images/debian.raw");  // relative to the catalog
  EXPECT_EQ(d.container_format, "ovf");
  EXPECT_TRUE(d.ImageProperties().empty());  // nothing unset is invented
}

TEST(ParseCatalogTest, AcceptsJson) {
  auto c = Parse(R"({"images": [{"name": "CoreOS", "login_user": "coreos", "disk_format": "qcow2",
                     "min_ram": 1024, "source": {"file": "/abs/coreos.img"}}]})");
  ASSERT_TRUE(c.ok()) << c.status().ToString();
  EXPECT_EQ(c->entries[0].source.file, "/abs/coreos.img");
  EXPECT_EQ(c->entries[0].min_ram, 1024);
}

TEST(ParseCatalogTest, EmptyImageListIsValid) {
  auto c = Parse("images: []\n");
  ASSERT_TRUE(c.ok());
  EXPECT_TRUE(c->entries.empty());
}

TEST(ParseCatalogTest, RejectsStructuralErrors) {
  EXPECT_THAT(Error(""), HasSubstr("empty"));
  EXPECT_THAT(Error("- name: x\n"), HasSubstr("expected a mapping with an 'images' list"));
  EXPECT_THAT(Error("imagez: []\n"), HasSubstr("unknown key 'imagez'"));
  EXPECT_THAT(Error("images: {a: 1}\n"), HasSubstr("expected a list of images"));
  EXPECT_THAT(Error("images: [\n"), HasSubstr("not valid YAML/JSON"));
  EXPECT_THAT(Error("images:\n  - just a string\n"), HasSubstr("images[0] (line 2): expected a mapping"));
}

TEST(ParseCatalogTest, NamesTheEntryAndField) {
  std::string head = "images:\n  - name: A\n    disk_format: raw\n    source: {file: a}\n"
                     "  - name: B\n    disk_format: raw\n";
  EXPECT_THAT(Error(head + "    source: {file: b}\n    login: root\n"),
              HasSubstr("cat.yaml: images[1] 'B' (line 8): unknown key 'login'"));
  EXPECT_THAT(Error(head), HasSubstr("images[1] 'B' (line 5): missing required key 'source'"));
  EXPECT_THAT(Error("images:\n  - disk_format: raw\n    source: {file: a}\n"),
              HasSubstr("images[0] (line 2): missing required key 'name'"));
  EXPECT_THAT(Error("images:\n  - name: A\n    source: {file: a}\n"),
              HasSubstr("images[0] 'A' (line 2): missing required key 'disk_format'"));
  EXPECT_THAT(Error(head + "    source: {file: b}\n    min_ram: -1\n"),
              HasSubstr("images[1] 'B' (line 8): 'min_ram' must be a non-negative integer, got '-1'"));
  EXPECT_THAT(Error(head + "    source: {file: b}\n    min_disk: 1.5\n"),
              HasSubstr("'min_disk' must be a non-negative integer, got '1.5'"));
  EXPECT_THAT(Error(head + "    source: {file: b}\n    os_distro: [x]\n"),
              HasSubstr("'os_distro' must be a string, got a list"));
  EXPECT_THAT(Error(head + "    source: {file: b}\n    tags: [x, x]\n"),
              HasSubstr("duplicate tag 'x'"));
}

TEST(ParseCatalogTest, RejectsDuplicateNamesAndKeys) {
  EXPECT_THAT(Error("images:\n  - {name: A, disk_format: raw, source: {file: a}}\n"
                    "  - {name: A, disk_format: raw, source: {file: b}}\n"),
              HasSubstr("images[1] 'A' (line 3): duplicate name (also images[0])"));
  EXPECT_THAT(Error("images:\n  - {name: A, disk_format: raw, disk_format: qcow2, source: {file: a}}\n"),
              HasSubstr("duplicate key 'disk_format'"));
}

TEST(ParseCatalogTest, ChecksFormatsAgainstTheConfiguration) {
  EXPECT_THAT(Error("images:\n  - {name: A, disk_format: qcow3, source: {file: a}}\n"),
              HasSubstr("'disk_format' is 'qcow3', expected one of: raw, qcow2, vhd"));
  EXPECT_THAT(Error("images:\n  - {name: A, disk_format: raw, container_format: docker, "
                    "source: {file: a}}\n"),
              HasSubstr("'container_format' is 'docker'"));
  ParseOptions no_bare = Opts();
  no_bare.container_formats = {"ovf"};
  auto c = ParseCatalog("images:\n  - {name: A, disk_format: raw, source: {file: a}}\n", "c",
                        no_bare);
  ASSERT_FALSE(c.ok());
  EXPECT_THAT(c.status().message(), HasSubstr("default container_format 'bare' is not enabled"));
}

TEST(ParseCatalogTest, ValidatesSources) {
  auto entry = [](const std::string& source) {
    return "images:\n  - name: A\n    disk_format: raw\n    source: " + source + "\n";
  };
  EXPECT_THAT(Error(entry("{}")), HasSubstr("exactly one of 'file' or 'url' is required"));
  EXPECT_THAT(Error(entry("{file: a, url: 'http://x/a'}")),
              HasSubstr("exactly one of 'file' or 'url' is required"));
  EXPECT_THAT(Error(entry("{url: 'ftp://x/a'}")),
              HasSubstr("'url' must start with http:// or https://, got 'ftp://x/a'"));
  EXPECT_THAT(Error(entry("{file: a, sha256: abc}")),
              HasSubstr("'sha256' must be 64 hexadecimal digits"));
  EXPECT_THAT(Error(entry("{file: a, sha512: " + std::string(128, 'g') + "}")),
              HasSubstr("'sha512' must be 128 hexadecimal digits"));
  EXPECT_THAT(Error(entry("{file: a, md5: x}")), HasSubstr("images[0] 'A': source (line 4): unknown key 'md5'"));
  EXPECT_THAT(Error(entry("a.img")), HasSubstr("expected a mapping with 'file' or 'url'"));
}

TEST(ParseCatalogTest, RejectsReservedProperties) {
  auto entry = [](const std::string& props) {
    return "images:\n  - {name: A, disk_format: raw, source: {file: a}, properties: " + props +
           "}\n";
  };
  EXPECT_THAT(Error(entry("{os_admin_user: root}")),
              HasSubstr("'properties.os_admin_user': use the entry's 'login_user' field instead"));
  EXPECT_THAT(Error(entry("{os_distro: x}")), HasSubstr("use the entry's 'os_distro' field"));
  EXPECT_THAT(Error(entry("{visibility: private}")),
              HasSubstr("'properties.visibility' is a reserved image attribute"));
  EXPECT_THAT(Error(entry("{os_glance_x: y}")), HasSubstr("reserved image attribute"));
  EXPECT_THAT(Error(entry("{a: {b: c}}")), HasSubstr("'properties.a' must be a string"));
  EXPECT_THAT(Error(entry("[a]")), HasSubstr("'properties' must be a mapping"));
}

TEST(LoadCatalogFileTest, ResolvesFilesAgainstTheCatalogFolder) {
  namespace fs = std::filesystem;
  fs::path dir = fs::temp_directory_path() / ("glimmer-catalog-test-" + std::to_string(::getpid()));
  fs::create_directories(dir / "sub");
  {
    std::ofstream(dir / "sub" / "c.yaml") << "images:\n  - {name: A, disk_format: raw, "
                                             "source: {file: ../img/a.raw}}\n";
  }
  auto c = LoadCatalogFile((dir / "sub" / "c.yaml").string(), Opts());
  ASSERT_TRUE(c.ok()) << c.status().ToString();
  EXPECT_EQ(c->entries[0].source.file, (dir / "img" / "a.raw").string());
  auto missing = LoadCatalogFile((dir / "nope.yaml").string(), Opts());
  EXPECT_EQ(missing.status().code(), StatusCode::kNotFound);
  fs::remove_all(dir);
}

TEST(LoadCatalogFileTest, ShippedExampleIsValid) {
  ParseOptions o = Opts();
  auto c = LoadCatalogFile(std::string(GLIMMER_SOURCE_DIR) + "/etc/catalog.example.yaml", o);
  ASSERT_TRUE(c.ok()) << c.status().ToString();
  std::map<std::string, std::string> login_by_distro;
  for (const auto& e : c->entries) {
    EXPECT_FALSE(e.os_distro.empty()) << e.name;
    EXPECT_FALSE(e.os_version.empty()) << e.name;
    EXPECT_FALSE(e.description.empty()) << e.name;
    login_by_distro[e.name.substr(0, e.name.find(' '))] = e.login_user;
  }
  EXPECT_EQ(login_by_distro, (std::map<std::string, std::string>{{"CentOS", "centos"},
                                                                 {"CoreOS", "coreos"},
                                                                 {"Debian", "debian"},
                                                                 {"Ubuntu", "ubuntu"},
                                                                 {"Windows", "admin"}}));
  bool atomic = false;
  for (const auto& e : c->entries) atomic |= e.name.find("Atomic") != std::string::npos &&
                                             e.login_user == "centos";
  EXPECT_TRUE(atomic);
}

}  // namespace
}  // namespace glimmer::catalog
