// Tests of safetensors checkpoints (src/io/safetensors.cpp,
// src/io/safetensors_format.h): sigma::save / load / load_tensors /
// load_metadata. Interop without Python: files written byte by byte in the
// tests exactly as the safetensors spec lays them out are loaded, and the
// files sigma writes are taken apart byte by byte (length prefix, JSON parsed
// by nlohmann-json, offsets, little-endian values decoded by hand). Then
// round trips for every dtype, empty, 0-dim and non-contiguous tensors and
// modules, one test per validation error, every truncation of a valid file,
// and single-byte corruptions that must end in a sigma::Error, never a crash.
#include <gtest/gtest.h>
#include <unistd.h>

#include <nlohmann/json.hpp>

#include <bit>
#include <cmath>
#include <cstdint>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <initializer_list>
#include <limits>
#include <map>
#include <sstream>
#include <string>
#include <vector>

#include "sigma/sigma.h"
#include "tensor_checks.h"

namespace {

namespace fs = std::filesystem;
namespace nn = sigma::nn;
using sigma::Tensor;
using sigma::test::expect_error;
using sigma::test::values;
using Dict = sigma::OrderedDict<std::string, Tensor>;
using Shape = std::vector<std::int64_t>;

// ---- Bytes, written by hand.

// v as n little-endian bytes.
std::string le(std::uint64_t v, int n) {
  std::string s;
  for (int i = 0; i < n; ++i) s.push_back(static_cast<char>((v >> (8 * i)) & 0xFF));
  return s;
}
std::uint64_t read_le(const std::string& s, std::size_t at, int n) {
  std::uint64_t v = 0;
  for (int i = n - 1; i >= 0; --i) v = (v << 8) | static_cast<unsigned char>(s[at + i]);
  return v;
}
std::string f32_le(float f) { return le(std::bit_cast<std::uint32_t>(f), 4); }
// A safetensors file: the 8-byte length, the header as given, the data.
std::string file_of(const std::string& header, const std::string& data = {}) {
  return le(header.size(), 8) + header + data;
}

std::string slurp(const fs::path& p) {
  std::ifstream f(p, std::ios::binary);
  std::stringstream ss;
  ss << f.rdbuf();
  return ss.str();
}
void write_raw(const fs::path& p, const std::string& bytes) {
  // A new file each time: truncating one with unwritten data makes ext4
  // flush it (auto_da_alloc), which is slow in the loops below.
  fs::remove(p);
  std::ofstream f(p, std::ios::binary | std::ios::trunc);
  f.write(bytes.data(), static_cast<std::streamsize>(bytes.size()));
}

// The raw bytes of a tensor's elements (row-major), for bit-exact comparison.
std::string element_bytes(const Tensor& t) {
  const Tensor c = t.contiguous();
  return std::string(static_cast<const char*>(c.data_ptr()), c.nbytes());
}

class Safetensors : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = fs::temp_directory_path() /
           ("sigma_safetensors_" + std::string(::testing::UnitTest::GetInstance()
                                                   ->current_test_info()
                                                   ->name()) +
            "_" + std::to_string(::getpid()));
    fs::remove_all(dir_);
    fs::create_directories(dir_);
  }
  void TearDown() override { fs::remove_all(dir_); }
  fs::path path(const std::string& name = "t.safetensors") const { return dir_ / name; }

  // Writes bytes and expects load_tensors to throw a sigma::Error that names
  // the op and the file and contains every part.
  void expect_load_error(const std::string& bytes, std::initializer_list<std::string> parts) {
    const fs::path p = path("bad.safetensors");
    write_raw(p, bytes);
    try {
      sigma::load_tensors(p);
      ADD_FAILURE() << "expected sigma::Error for a file of " << bytes.size() << " bytes";
    } catch (const sigma::Error& e) {
      const std::string msg = e.what();
      EXPECT_EQ(msg.rfind("load_tensors: '" + p.string() + "': ", 0), 0u) << msg;
      for (const auto& part : parts)
        EXPECT_NE(msg.find(part), std::string::npos) << "'" << part << "' not in: " << msg;
    }
  }
  // A header holding one tensor entry and the data it describes.
  void expect_entry_error(const std::string& entry, const std::string& data,
                          std::initializer_list<std::string> parts) {
    expect_load_error(file_of("{\"x\":" + entry + "}", data), parts);
  }

  fs::path dir_;
};

// ---- Interop: the byte layout of the spec.

TEST_F(Safetensors, LoadsAFileBuiltByHandFromTheSpec) {
  // Header order differs from data order; "__metadata__" comes first; no
  // padding (readers must not require it).
  const std::string header =
      R"({"__metadata__":{"format":"pt"},)"
      R"("b":{"dtype":"I64","shape":[],"data_offsets":[8,16]},)"
      R"("a":{"dtype":"F32","shape":[2],"data_offsets":[0,8]}})";
  const std::string data = le(0x3FC00000, 4)            // 1.5f
                           + le(0xC0100000, 4)          // -2.25f
                           + le(0xFFFFFFFFFFFFFFFDull, 8);  // int64 -3
  write_raw(path(), file_of(header, data));

  const Dict d = sigma::load_tensors(path());
  ASSERT_EQ(d.keys(), (std::vector<std::string>{"b", "a"}));
  EXPECT_EQ(d["a"].dtype(), sigma::kFloat32);
  EXPECT_EQ(d["a"].sizes(), Shape{2});
  EXPECT_EQ(values(d["a"]), (std::vector<double>{1.5, -2.25}));
  EXPECT_EQ(d["b"].dtype(), sigma::kLong);
  EXPECT_EQ(d["b"].dim(), 0);
  EXPECT_EQ(d["b"].item<std::int64_t>(), -3);
  EXPECT_FALSE(d["a"].requires_grad());
  EXPECT_EQ(sigma::load_metadata(path()), (sigma::Metadata{{"format", "pt"}}));
}

TEST_F(Safetensors, LoadsEveryDtypeFromHandBuiltBytes) {
  // Offsets: F64 [0, 8), BF16 [8, 12), F16 [12, 16), BOOL [16, 19), I64
  // [19, 35) (unaligned, which the format allows). Padded with spaces.
  std::string header =
      R"({"f64":{"dtype":"F64","shape":[1],"data_offsets":[0,8]},)"
      R"("bf16":{"dtype":"BF16","shape":[2],"data_offsets":[8,12]},)"
      R"("f16":{"dtype":"F16","shape":[2,1],"data_offsets":[12,16]},)"
      R"("mask":{"dtype":"BOOL","shape":[3],"data_offsets":[16,19]},)"
      R"("ids":{"dtype":"I64","shape":[2],"data_offsets":[19,35]}})";
  header.append((8 - header.size() % 8) % 8, ' ');
  const std::string data = le(0x3FF8000000000000ull, 8)    // 1.5
                           + le(0x3FC0, 2) + le(0xBF00, 2)  // bf16 1.5, -0.5
                           + le(0x3E00, 2) + le(0x7BFF, 2)  // f16 1.5, 65504
                           + le(1, 1) + le(0, 1) + le(1, 1)
                           + le((1ull << 40) + 1, 8) + le(~0ull, 8);  // 2^40 + 1, -1
  write_raw(path(), file_of(header, data));

  const Dict d = sigma::load_tensors(path());
  EXPECT_EQ(d["f64"].dtype(), sigma::kFloat64);
  EXPECT_EQ(values(d["f64"]), (std::vector<double>{1.5}));
  EXPECT_EQ(d["bf16"].dtype(), sigma::kBFloat16);
  EXPECT_EQ(values(d["bf16"]), (std::vector<double>{1.5, -0.5}));
  EXPECT_EQ(d["f16"].dtype(), sigma::kHalf);
  EXPECT_EQ(d["f16"].sizes(), (Shape{2, 1}));
  EXPECT_EQ(values(d["f16"]), (std::vector<double>{1.5, 65504}));
  EXPECT_EQ(d["mask"].dtype(), sigma::kBool);
  EXPECT_EQ(d["mask"].to_vector<bool>(), (std::vector<bool>{true, false, true}));
  EXPECT_EQ(d["ids"].dtype(), sigma::kLong);
  EXPECT_EQ(d["ids"].to_vector<std::int64_t>(), (std::vector<std::int64_t>{(1ll << 40) + 1, -1}));
  EXPECT_TRUE(sigma::load_metadata(path()).empty());
}

TEST_F(Safetensors, IgnoresUnknownFieldsAndAcceptsWhitespace) {
  const std::string header =
      "{ \"a\" : {\"note\": {\"deep\": [1, [2, {\"x\": null}]]}, \"dtype\" : \"F32\",\n"
      "  \"extra\": true, \"shape\": [1], \"data_offsets\": [0, 4], \"z\": -1.5e3 } }\n  ";
  write_raw(path(), file_of(header, f32_le(0.75f)));
  const Dict d = sigma::load_tensors(path());
  EXPECT_EQ(values(d["a"]), (std::vector<double>{0.75}));
}

TEST_F(Safetensors, WrittenFileFollowsTheSpecByteByByte) {
  Dict d;
  d.insert("weight", sigma::tensor({{1.0f, -2.0f}, {0.5f, 3e-8f}}));
  d.insert("steps", sigma::scalar_tensor(7, sigma::kLong));
  d.insert("mask", sigma::tensor({true, false, true}));
  d.insert("h", sigma::tensor({-1.5f}).to(sigma::kBFloat16));
  d.insert("empty", sigma::zeros({0, 3}));
  sigma::save(d, path());
  const std::string bytes = slurp(path());

  // 8-byte little-endian header length; the data starts 8-aligned.
  ASSERT_GE(bytes.size(), 8u);
  const std::uint64_t n = read_le(bytes, 0, 8);
  ASSERT_LE(8 + n, bytes.size());
  EXPECT_EQ((8 + n) % 8, 0u);
  const std::string header = bytes.substr(8, n);
  EXPECT_EQ(header.front(), '{');
  EXPECT_EQ(header.find_first_not_of(' ', header.rfind('}') + 1), std::string::npos)
      << "padding must be spaces";
  const nlohmann::json j = nlohmann::json::parse(header);
  ASSERT_TRUE(j.is_object());
  EXPECT_FALSE(j.contains("__metadata__"));
  EXPECT_EQ(j.size(), 5u);
  // The header lists the tensors in the dict's order.
  std::size_t last = 0;
  for (const char* key : {"\"weight\"", "\"steps\"", "\"mask\"", "\"h\"", "\"empty\""}) {
    const std::size_t at = header.find(key);
    ASSERT_NE(at, std::string::npos) << key;
    EXPECT_GT(at, last) << key;
    last = at;
  }

  struct Expected {
    const char* name;
    const char* dtype;
    Shape shape;
    std::uint64_t begin, end;
  };
  // Laid out in order without gaps.
  const std::vector<Expected> expected = {{"weight", "F32", {2, 2}, 0, 16},
                                          {"steps", "I64", {}, 16, 24},
                                          {"mask", "BOOL", {3}, 24, 27},
                                          {"h", "BF16", {1}, 27, 29},
                                          {"empty", "F32", {0, 3}, 29, 29}};
  for (const Expected& e : expected) {
    const nlohmann::json& entry = j.at(e.name);
    EXPECT_EQ(entry.at("dtype").get<std::string>(), e.dtype) << e.name;
    EXPECT_EQ(entry.at("shape").get<Shape>(), e.shape) << e.name;
    EXPECT_EQ(entry.at("data_offsets").get<std::vector<std::uint64_t>>(),
              (std::vector<std::uint64_t>{e.begin, e.end}))
        << e.name;
  }
  const std::string data = bytes.substr(8 + n);
  ASSERT_EQ(data.size(), 29u);
  EXPECT_EQ(data.substr(0, 16), f32_le(1.0f) + f32_le(-2.0f) + f32_le(0.5f) + f32_le(3e-8f));
  EXPECT_EQ(read_le(data, 16, 8), 7u);
  EXPECT_EQ(data.substr(24, 3), std::string("\x01\x00\x01", 3));
  EXPECT_EQ(read_le(data, 27, 2), 0xBFC0u);  // bf16 -1.5
}

TEST_F(Safetensors, MetadataIsWrittenAndRead) {
  Dict d;
  d.insert("w", sigma::ones({2}));
  const sigma::Metadata meta = {{"format", "pt"}, {"epoch", "3"}, {"note", "quote \" and \\ é"}};
  sigma::save(d, path(), meta);
  const std::string bytes = slurp(path());
  const nlohmann::json j = nlohmann::json::parse(bytes.substr(8, read_le(bytes, 0, 8)));
  EXPECT_EQ(j.at("__metadata__").get<sigma::Metadata>(), meta);
  EXPECT_EQ(sigma::load_metadata(path()), meta);
  EXPECT_EQ(sigma::load_tensors(path()).keys(), (std::vector<std::string>{"w"}));
}

// ---- Round trips.

TEST_F(Safetensors, EveryDtypeRoundTripsBitExactly) {
  const std::vector<float> special = {0.0f,
                                      -0.0f,
                                      1.0f,
                                      -3.25f,
                                      std::numeric_limits<float>::infinity(),
                                      -std::numeric_limits<float>::infinity(),
                                      std::numeric_limits<float>::quiet_NaN(),
                                      std::numeric_limits<float>::denorm_min(),
                                      std::numeric_limits<float>::max(),
                                      1e-3f};
  Dict d;
  for (sigma::ScalarType t : {sigma::kFloat32, sigma::kFloat64, sigma::kBFloat16, sigma::kHalf}) {
    d.insert(std::string("random_") + sigma::to_string(t),
             sigma::test::random_tensor({3, 5}, t, 11, -100, 100));
    d.insert(std::string("special_") + sigma::to_string(t), sigma::tensor(special).to(t));
  }
  d.insert("long", sigma::tensor(std::vector<std::int64_t>{std::numeric_limits<std::int64_t>::min(),
                                                           -1, 0, 1,
                                                           std::numeric_limits<std::int64_t>::max()}));
  d.insert("bool", sigma::tensor({true, false, false, true}).reshape({2, 2}));
  sigma::save(d, path());
  const Dict back = sigma::load_tensors(path());
  ASSERT_EQ(back.keys(), d.keys());
  for (const auto& item : d) {
    const Tensor& got = back[item.key()];
    EXPECT_EQ(got.dtype(), item->dtype()) << item.key();
    EXPECT_EQ(got.sizes(), item->sizes()) << item.key();
    EXPECT_TRUE(got.is_contiguous());
    EXPECT_EQ(element_bytes(got), element_bytes(item.value())) << item.key();
  }
}

TEST_F(Safetensors, EmptyAndZeroDimTensorsRoundTrip) {
  Dict d;
  d.insert("e0", sigma::zeros({0}));
  d.insert("e1", sigma::zeros({2, 0, 3}, sigma::kLong));
  d.insert("s", sigma::scalar_tensor(2.5, sigma::kFloat64));
  d.insert("e2", sigma::zeros({0, 4}, sigma::kBool));
  d.insert("b", sigma::scalar_tensor(true));
  sigma::save(d, path());
  const Dict back = sigma::load_tensors(path());
  ASSERT_EQ(back.keys(), d.keys());
  EXPECT_EQ(back["e1"].sizes(), (Shape{2, 0, 3}));
  EXPECT_EQ(back["e1"].dtype(), sigma::kLong);
  EXPECT_EQ(back["e2"].sizes(), (Shape{0, 4}));
  EXPECT_EQ(back["s"].dim(), 0);
  EXPECT_EQ(back["s"].item<double>(), 2.5);
  EXPECT_EQ(back["b"].dim(), 0);
  EXPECT_TRUE(back["b"].item<bool>());

  // Only empty tensors: an empty data section. And an empty dict.
  Dict only_empty;
  only_empty.insert("a", sigma::zeros({0}));
  only_empty.insert("b", sigma::zeros({3, 0}, sigma::kHalf));
  sigma::save(only_empty, path("e.safetensors"));
  EXPECT_EQ(sigma::load_tensors(path("e.safetensors")).keys(), (std::vector<std::string>{"a", "b"}));
  sigma::save(Dict{}, path("none.safetensors"));
  EXPECT_TRUE(sigma::load_tensors(path("none.safetensors")).is_empty());
  EXPECT_EQ(slurp(path("none.safetensors")), le(8, 8) + "{}      ");
}

TEST_F(Safetensors, NonContiguousTensorsAreSavedContiguous) {
  const Tensor base = sigma::test::from_index({3, 4}, [](std::int64_t i) { return i * 1.5 - 4; });
  Dict d;
  d.insert("transposed", base.t());                        // [4, 3], strides [1, 4]
  d.insert("sliced", base.slice(1, 0, 4, 2));               // [3, 2], step 2
  d.insert("expanded", base[1].unsqueeze(0).expand({2, 4}));  // stride 0
  d.insert("row", base.select(1, 3));                       // [3], stride 4
  sigma::save(d, path());
  const Dict back = sigma::load_tensors(path());
  for (const auto& item : d) {
    EXPECT_EQ(back[item.key()].sizes(), item->sizes()) << item.key();
    EXPECT_TRUE(back[item.key()].is_contiguous());
    EXPECT_EQ(values(back[item.key()]), values(item.value())) << item.key();
  }
  // The values in the file are row-major: transposed[r][c] = base[c][r].
  const std::vector<double> t = values(back["transposed"]);
  for (int r = 0; r < 4; ++r)
    for (int c = 0; c < 3; ++c) EXPECT_EQ(t[r * 3 + c], (c * 4 + r) * 1.5 - 4);
}

TEST_F(Safetensors, NamesNeedingJsonEscapesRoundTrip) {
  Dict d;
  for (const char* name : {"a\"b", "back\\slash", "tab\there", "é ü 中", "", "__meta__"})
    d.insert(name, sigma::ones({1}));
  sigma::save(d, path());
  EXPECT_EQ(sigma::load_tensors(path()).keys(), d.keys());
}

TEST_F(Safetensors, LargeTensorRoundTrips) {
  Dict d;
  d.insert("big", sigma::test::random_tensor({300, 257}, sigma::kFloat32, 3));
  d.insert("tail", sigma::test::random_tensor({7}, sigma::kFloat64, 4));
  sigma::save(d, path());
  const Dict back = sigma::load_tensors(path());
  EXPECT_EQ(element_bytes(back["big"]), element_bytes(d["big"]));
  EXPECT_EQ(element_bytes(back["tail"]), element_bytes(d["tail"]));
}

TEST_F(Safetensors, ModuleRoundTripGivesIdenticalOutputs) {
  sigma::manual_seed(1);
  nn::Sequential saved(nn::Linear(5, 8), nn::Tanh(), nn::Linear(8, 2));
  sigma::save(saved, path());
  EXPECT_EQ(sigma::load_tensors(path()).keys(),
            (std::vector<std::string>{"0.weight", "0.bias", "2.weight", "2.bias"}));

  sigma::manual_seed(2);
  nn::Sequential fresh(nn::Linear(5, 8), nn::Tanh(), nn::Linear(8, 2));
  const Tensor x = sigma::test::random_tensor({4, 5}, sigma::kFloat32, 9);
  ASSERT_NE(values(fresh->forward(x)), values(saved->forward(x)));
  const Tensor weight_handle = fresh[0]->as<nn::Linear>()->weight;
  sigma::load(fresh, path());
  EXPECT_EQ(values(fresh->forward(x)), values(saved->forward(x)));
  EXPECT_TRUE(fresh[0]->as<nn::Linear>()->weight.is_same(weight_handle));
  EXPECT_TRUE(weight_handle.requires_grad());

  // The shared_ptr and Impl& spellings.
  auto ptr = std::make_shared<nn::LinearImpl>(5, 8);
  sigma::save(ptr, path("ptr.safetensors"));
  nn::Linear other(5, 8);
  sigma::load(*other, path("ptr.safetensors"));
  EXPECT_EQ(values(other->weight), values(ptr->weight));
  sigma::load(ptr, path("ptr.safetensors"));
}

TEST_F(Safetensors, LoadIntoModuleConvertsDtypes) {
  nn::Linear wide(3, 2);
  wide->to(sigma::kFloat64);
  wide->weight.detach().copy_(sigma::full({2, 3}, 1.0 / 3.0, sigma::kFloat64));
  sigma::save(wide, path());
  EXPECT_EQ(sigma::load_tensors(path())["weight"].dtype(), sigma::kFloat64);
  nn::Linear narrow(3, 2);
  sigma::load(narrow, path());
  EXPECT_EQ(narrow->weight.dtype(), sigma::kFloat32);
  for (double v : values(narrow->weight)) EXPECT_EQ(v, static_cast<double>(1.0f / 3.0f));
}

TEST_F(Safetensors, LoadIntoModuleChecksKeysAndShapesAndNamesTheFile) {
  nn::Linear small(3, 4);
  sigma::save(small, path());
  nn::Linear big(30, 4);
  const std::vector<double> before = values(big->weight);
  expect_error([&] { sigma::load(big, path()); },
               {"load: '" + path().string() + "': load_state_dict: shape mismatch for weight: "
                                              "checkpoint [4, 3], model [4, 30]"});
  EXPECT_EQ(values(big->weight), before);

  nn::Linear no_bias(nn::LinearOptions(3, 4).bias(false));
  expect_error([&] { sigma::load(no_bias, path()); },
               {"load: '", "load_state_dict: unexpected keys: [bias]"});
  nn::Sequential seq(nn::Linear(3, 4));
  expect_error([&] { sigma::load(seq, path()); },
               {"missing keys: [0.weight, 0.bias]", "unexpected keys: [weight, bias]"});
}

TEST_F(Safetensors, SaveReplacesAtomicallyAndLeavesNoTemporaries) {
  Dict a;
  a.insert("w", sigma::ones({3}));
  sigma::save(a, path());
  const std::string first = slurp(path());
  Dict bad;
  bad.insert("w", sigma::ones({3}));
  bad.insert("u", Tensor());
  expect_error([&] { sigma::save(bad, path()); }, {"save: '", "tensor 'u' is undefined"});
  EXPECT_EQ(slurp(path()), first);
  Dict b;
  b.insert("v", sigma::zeros({2}));
  sigma::save(b, path());
  EXPECT_EQ(sigma::load_tensors(path()).keys(), (std::vector<std::string>{"v"}));
  int entries = 0;
  for (const auto& e : fs::directory_iterator(dir_)) entries += e.is_regular_file() ? 1 : 0;
  EXPECT_EQ(entries, 1);
  // A missing parent directory is an error, not created.
  expect_error([&] { sigma::save(b, dir_ / "x" / "y" / "m.safetensors"); },
               {"save: cannot write '", "m.safetensors", "directory '", "' does not exist"});
  EXPECT_FALSE(fs::exists(dir_ / "x"));
}

TEST_F(Safetensors, SaveErrors) {
  Dict reserved;
  reserved.insert("__metadata__", sigma::ones({1}));
  expect_error([&] { sigma::save(reserved, path()); }, {"save: '", "'__metadata__' is reserved"});
  Dict bad_name;
  bad_name.insert("\xff\xfe", sigma::ones({1}));
  expect_error([&] { sigma::save(bad_name, path()); }, {"save: '", "valid UTF-8"});
  // A path below a regular file cannot be created.
  write_raw(path("file"), "x");
  Dict ok;
  ok.insert("w", sigma::ones({1}));
  expect_error([&] { sigma::save(ok, path("file") / "sub.safetensors"); },
               {"save: cannot write '", "file' is not a directory"});
  nn::Linear null_holder{nullptr};
  EXPECT_THROW(sigma::save(null_holder, path()), sigma::Error);
  EXPECT_THROW(sigma::save(std::shared_ptr<nn::LinearImpl>(), path()), sigma::Error);
}

// ---- Validation: one test per error.

TEST_F(Safetensors, MissingFileOrDirectory) {
  expect_error([&] { sigma::load_tensors(path("absent.safetensors")); },
               {"load_tensors: '", "absent.safetensors", "cannot read the file"});
  expect_error([&] { sigma::load_tensors(dir_); }, {"load_tensors: '", "cannot read the file"});
  nn::Linear fc(2, 2);
  expect_error([&] { sigma::load(fc, path("absent.safetensors")); }, {"load: '", "cannot read"});
  expect_error([&] { sigma::load_metadata(path("absent.safetensors")); }, {"load_metadata: '"});
}

TEST_F(Safetensors, FileShorterThanTheLengthPrefix) {
  for (int n = 0; n < 8; ++n)
    expect_load_error(std::string(static_cast<std::size_t>(n), '\0'),
                      {"has " + std::to_string(n) + " bytes, too few for the 8-byte header length"});
}

TEST_F(Safetensors, HeaderLengthPastTheEndOfTheFile) {
  expect_load_error(le(100, 8) + "{}", {"header length 100 runs past the end of the 10-byte file"});
  expect_load_error(le(1, 8), {"header length 1 runs past the end of the 8-byte file"});
}

TEST_F(Safetensors, HeaderLengthAbsurd) {
  expect_load_error(le(100'000'001, 8) + "{}", {"header length 100000001 exceeds the limit"});
  expect_load_error(le(~0ull, 8) + "{}", {"header length 18446744073709551615 exceeds the limit"});
  expect_load_error(le(1ull << 63, 8), {"exceeds the limit of 100000000 bytes"});
}

TEST_F(Safetensors, HeaderIsNotValidJson) {
  expect_load_error(file_of(""), {"the header is not valid JSON"});
  expect_load_error(file_of("{\"a\": "), {"the header is not valid JSON"});
  expect_load_error(file_of("{} x"), {"the header is not valid JSON"});
  expect_load_error(file_of("{'a':1}"), {"the header is not valid JSON"});
  expect_load_error(file_of("{\"\xff\":{}}"), {"the header is not valid JSON"});  // not UTF-8
  expect_load_error(file_of(std::string("{\0}", 3)), {"the header is not valid JSON"});
}

TEST_F(Safetensors, HeaderIsNotAnObject) {
  for (const char* h : {"[]", "\"x\"", "3", "null", "true"})
    expect_load_error(file_of(h), {"the header must be a JSON object"});
}

TEST_F(Safetensors, EntryIsNotAnObject) {
  expect_load_error(file_of(R"({"w": 3})"), {"entry 'w' must be an object, got a number"});
  expect_load_error(file_of(R"({"w": [1]})"), {"entry 'w' must be an object, got an array"});
  expect_load_error(file_of(R"({"__metadata__": []})"), {"__metadata__ must be an object"});
  expect_load_error(file_of(R"({"__metadata__": {"k": 1}})"),
                    {"__metadata__ value 'k' must be a string, got a number"});
  expect_load_error(file_of(R"({"__metadata__": {"k": {}}})"),
                    {"__metadata__ value 'k' must be a string, got an object"});
}

TEST_F(Safetensors, MissingFields) {
  expect_entry_error(R"({"shape":[1],"data_offsets":[0,4]})", f32_le(1), {"tensor 'x': field 'dtype' is missing"});
  expect_entry_error(R"({"dtype":"F32","data_offsets":[0,4]})", f32_le(1), {"tensor 'x': field 'shape' is missing"});
  expect_entry_error(R"({"dtype":"F32","shape":[1]})", f32_le(1), {"tensor 'x': field 'data_offsets' is missing"});
  expect_entry_error("{}", "", {"tensor 'x': field 'dtype' is missing"});
}

TEST_F(Safetensors, MistypedFields) {
  const std::string d = f32_le(1);
  expect_entry_error(R"({"dtype":3,"shape":[1],"data_offsets":[0,4]})", d,
                     {"tensor 'x': 'dtype' must be a string, got a number"});
  expect_entry_error(R"({"dtype":["F32"],"shape":[1],"data_offsets":[0,4]})", d,
                     {"'dtype' must be a string, got an array"});
  expect_entry_error(R"({"dtype":"F32","shape":"1","data_offsets":[0,4]})", d,
                     {"'shape' must be an array of integers, got a string"});
  expect_entry_error(R"({"dtype":"F32","shape":{},"data_offsets":[0,4]})", d,
                     {"'shape' must be an array of integers, got an object"});
  expect_entry_error(R"({"dtype":"F32","shape":[1.0],"data_offsets":[0,4]})", d,
                     {"'shape' must hold non-negative integers, got 1.0"});
  expect_entry_error(R"({"dtype":"F32","shape":[[1]],"data_offsets":[0,4]})", d,
                     {"'shape' must hold non-negative integers, got an array"});
  expect_entry_error(R"({"dtype":"F32","shape":[null],"data_offsets":[0,4]})", d,
                     {"'shape' must hold non-negative integers, got null"});
  expect_entry_error(R"({"dtype":"F32","shape":[1],"data_offsets":[0]})", d,
                     {"'data_offsets' must be [begin, end], got 1 number(s)"});
  expect_entry_error(R"({"dtype":"F32","shape":[1],"data_offsets":[0,4,4]})", d,
                     {"'data_offsets' must be [begin, end], got more than two numbers"});
  expect_entry_error(R"({"dtype":"F32","shape":[1],"data_offsets":[0,"4"]})", d,
                     {"'data_offsets' must hold non-negative integers, got a string"});
  expect_entry_error(R"({"dtype":"F32","shape":[1],"data_offsets":4})", d,
                     {"'data_offsets' must be an array of integers, got a number"});
  // "-0" is zero.
  write_raw(path(), file_of(R"({"x":{"dtype":"F32","shape":[-0],"data_offsets":[-0,0]}})"));
  EXPECT_EQ(sigma::load_tensors(path())["x"].sizes(), Shape{0});
}

TEST_F(Safetensors, NegativeNumbers) {
  expect_entry_error(R"({"dtype":"F32","shape":[-1],"data_offsets":[0,4]})", f32_le(1),
                     {"'shape' must hold non-negative integers, got -1"});
  expect_entry_error(R"({"dtype":"F32","shape":[1],"data_offsets":[-4,0]})", f32_le(1),
                     {"'data_offsets' must hold non-negative integers, got -4"});
}

TEST_F(Safetensors, UnknownDtype) {
  for (const char* t : {"I16", "U8", "F8_E4M3", "f32", "i32", ""})
    expect_entry_error(std::string(R"({"dtype":")") + t + R"(","shape":[1],"data_offsets":[0,4]})",
                       f32_le(1), {std::string("dtype '") + t + "' is not supported"});
}

TEST_F(Safetensors, ShapesThatOverflow) {
  // 2^32 * 2^32 elements; a size above 2^63; a size too large for JSON
  // integers; a zero does not excuse the other sizes.
  expect_entry_error(R"({"dtype":"F32","shape":[4294967296,4294967296],"data_offsets":[0,4]})",
                     f32_le(1), {"shape [4294967296, 4294967296] has too many elements"});
  expect_entry_error(R"({"dtype":"F32","shape":[9223372036854775808],"data_offsets":[0,4]})",
                     f32_le(1), {"size 9223372036854775808 is too large"});
  expect_entry_error(R"({"dtype":"F32","shape":[1e30],"data_offsets":[0,4]})", f32_le(1),
                     {"must hold non-negative integers"});
  expect_entry_error(R"({"dtype":"F32","shape":[0,4611686018427387904,8],"data_offsets":[0,0]})",
                     "", {"has too many elements"});
  expect_entry_error(R"({"dtype":"F64","shape":[576460752303423488],"data_offsets":[0,8]})",
                     f32_le(1) + f32_le(1), {"has too many elements"});
}

TEST_F(Safetensors, OffsetsEndBeforeTheyBegin) {
  expect_entry_error(R"({"dtype":"F32","shape":[1],"data_offsets":[4,0]})", f32_le(1),
                     {"tensor 'x': data_offsets [4, 0] end before they begin"});
}

TEST_F(Safetensors, OffsetsPastTheDataSection) {
  expect_entry_error(R"({"dtype":"F32","shape":[200],"data_offsets":[0,800]})", f32_le(1) + f32_le(2),
                     {"tensor 'x': data_offsets [0, 800] run past the 8-byte data section"});
  expect_entry_error(
      R"({"dtype":"F32","shape":[1],"data_offsets":[18446744073709551612,18446744073709551615]})",
      f32_le(1), {"run past the 4-byte data section"});
}

TEST_F(Safetensors, SizeDoesNotMatchTheShape) {
  expect_entry_error(R"({"dtype":"F32","shape":[3],"data_offsets":[0,8]})", f32_le(1) + f32_le(2),
                     {"tensor 'x': data_offsets [0, 8] hold 8 bytes, but shape [3] of F32 needs 12"});
  expect_entry_error(R"({"dtype":"F16","shape":[],"data_offsets":[0,4]})", f32_le(1),
                     {"shape [] of F16 needs 2"});
}

TEST_F(Safetensors, OverlappingTensors) {
  expect_load_error(
      file_of(R"({"a":{"dtype":"F32","shape":[2],"data_offsets":[0,8]},)"
              R"("b":{"dtype":"F32","shape":[2],"data_offsets":[4,12]}})",
              f32_le(1) + f32_le(2) + f32_le(3)),
      {"tensors 'a' [0, 8) and 'b' [4, 12) overlap in the data section"});
  // The same bytes twice.
  expect_load_error(file_of(R"({"a":{"dtype":"F32","shape":[1],"data_offsets":[0,4]},)"
                            R"("b":{"dtype":"F32","shape":[1],"data_offsets":[0,4]}})",
                            f32_le(1)),
                    {"overlap"});
  // An empty tensor inside another one.
  expect_load_error(file_of(R"({"a":{"dtype":"F32","shape":[2],"data_offsets":[0,8]},)"
                            R"("e":{"dtype":"F32","shape":[0],"data_offsets":[4,4]}})",
                            f32_le(1) + f32_le(2)),
                    {"overlap"});
}

TEST_F(Safetensors, GapsInTheDataSection) {
  expect_load_error(file_of(R"({"a":{"dtype":"F32","shape":[1],"data_offsets":[0,4]},)"
                            R"("b":{"dtype":"F32","shape":[1],"data_offsets":[8,12]}})",
                            f32_le(1) + f32_le(2) + f32_le(3)),
                    {"the data section has a gap: bytes [4, 8) belong to no tensor (after 'a', "
                     "before 'b')"});
  expect_load_error(file_of(R"({"a":{"dtype":"F32","shape":[1],"data_offsets":[4,8]}})",
                            f32_le(1) + f32_le(2)),
                    {"gap: bytes [0, 4) belong to no tensor (before 'a')"});
}

TEST_F(Safetensors, TrailingBytesAfterTheLastTensor) {
  expect_entry_error(R"({"dtype":"F32","shape":[1],"data_offsets":[0,4]})", f32_le(1) + "zzzz",
                     {"the tensors cover 4 bytes but the data section has 8"});
  expect_load_error(file_of("{}", "x"), {"the tensors cover 0 bytes but the data section has 1"});
}

TEST_F(Safetensors, DuplicateNamesAndFields) {
  expect_load_error(file_of(R"({"a":{"dtype":"F32","shape":[1],"data_offsets":[0,4]},)"
                            R"("a":{"dtype":"F32","shape":[1],"data_offsets":[4,8]}})",
                            f32_le(1) + f32_le(2)),
                    {"the name 'a' appears twice"});
  expect_entry_error(R"({"dtype":"F32","dtype":"F32","shape":[1],"data_offsets":[0,4]})",
                     f32_le(1), {"tensor 'x': field 'dtype' appears twice"});
  expect_entry_error(R"({"dtype":"F32","shape":[1],"shape":[1],"data_offsets":[0,4]})",
                     f32_le(1), {"field 'shape' appears twice"});
  expect_load_error(file_of(R"({"__metadata__":{},"__metadata__":{}})"),
                    {"the name '__metadata__' appears twice"});
  expect_load_error(file_of(R"({"__metadata__":{"k":"1","k":"2"}})"),
                    {"__metadata__ key 'k' appears twice"});
}

TEST_F(Safetensors, BoolBytesOtherThanZeroOrOne) {
  expect_entry_error(R"({"dtype":"BOOL","shape":[3],"data_offsets":[0,3]})", std::string("\1\2\0", 3),
                     {"tensor 'x': BOOL element 1 is byte 2, not 0 or 1"});
}

TEST_F(Safetensors, LongNamesAreCutInMessages) {
  const std::string name(1000, 'n');
  try {
    write_raw(path(), file_of("{\"" + name + "\": 1}"));
    sigma::load_tensors(path());
    FAIL();
  } catch (const sigma::Error& e) {
    EXPECT_LT(std::string(e.what()).size(), 300u);
    EXPECT_NE(std::string(e.what()).find("nnn...'"), std::string::npos);
  }
}

// A valid file exercising every dtype, metadata and an empty tensor.
std::string valid_file(const fs::path& p) {
  Dict d;
  d.insert("w", sigma::test::random_tensor({2, 3}, sigma::kFloat32, 5));
  d.insert("d", sigma::tensor({0.5, -1.0}));
  d.insert("h", sigma::tensor({1.0f}).to(sigma::kHalf));
  d.insert("bf", sigma::tensor({2.0f, 3.0f}).to(sigma::kBFloat16));
  d.insert("i", sigma::tensor(std::vector<std::int64_t>{-7, 9}));
  d.insert("m", sigma::tensor({true, false}));
  d.insert("e", sigma::zeros({0, 2}));
  sigma::save(d, p, {{"format", "pt"}});
  return slurp(p);
}

TEST_F(Safetensors, EveryTruncationThrows) {
  const std::string full = valid_file(path("full.safetensors"));
  EXPECT_EQ(sigma::load_tensors(path("full.safetensors")).size(), 7u);
  nn::Linear fc(3, 2);
  for (std::size_t n = 0; n < full.size(); ++n) {
    write_raw(path(), full.substr(0, n));
    EXPECT_THROW(sigma::load_tensors(path()), sigma::Error) << "truncated to " << n << " bytes";
    EXPECT_THROW(sigma::load_metadata(path()), sigma::Error) << "truncated to " << n << " bytes";
    EXPECT_THROW(sigma::load(fc, path()), sigma::Error) << "truncated to " << n << " bytes";
  }
}

TEST_F(Safetensors, SingleByteCorruptionsLoadOrThrowSigmaError) {
  const std::string full = valid_file(path("full.safetensors"));
  int loaded = 0, rejected = 0;
  for (std::size_t i = 0; i < full.size(); ++i) {
    for (int c : {0x00, 0xFF, 0x80, int{'"'}, int{'['}, int{'{'}, int{'}'}, int{'-'}, int{'9'}, int{' '}}) {
      if (static_cast<unsigned char>(full[i]) == c) continue;
      std::string bytes = full;
      bytes[i] = static_cast<char>(c);
      write_raw(path(), bytes);
      try {
        const Dict d = sigma::load_tensors(path());
        for (const auto& item : d) (void)item->numel();
        ++loaded;
      } catch (const sigma::Error&) {
        ++rejected;
      } catch (const std::exception& e) {
        ADD_FAILURE() << "byte " << i << " -> " << int(c) << ": not a sigma::Error: " << e.what();
      }
    }
  }
  // Corrupted data bytes still load; corrupted structure does not.
  EXPECT_GT(loaded, 0);
  EXPECT_GT(rejected, 0);
}

}  // namespace
