// JSON text primitives of the rendering core: string escaping (always valid UTF-8 out,
// whatever came in), base64, and the validity check that decides whether bytes may be
// embedded verbatim.
#include "render/json_text.hpp"

#include <gtest/gtest.h>

#include <sys/mman.h>
#include <unistd.h>

#include <cstdint>
#include <cstdlib>
#include <cstring>
#include <random>
#include <string>
#include <string_view>

namespace crmsync::render {
namespace {

using namespace std::string_literals;

const std::string kFFFD = "\xEF\xBF\xBD";

std::string escape(std::string_view in) {
    StringOut out;
    write_json_string_body(out.buffer(), in.data(), in.size());
    return out.str();
}

std::string quoted(std::string_view in) {
    StringOut out;
    write_json_string(out.buffer(), in.data(), in.size());
    return out.str();
}

std::string base64(std::string_view in) {
    StringOut out;
    write_base64_body(out.buffer(), reinterpret_cast<const uint8_t*>(in.data()), in.size());
    return out.str();
}

bool valid(std::string_view in) { return is_valid_json(in.data(), in.size()); }

// The reference the escaper is checked against: decodes one code point at a time and
// checks the decoded value (not the byte patterns), one input byte per U+FFFD on failure.
std::string reference_escape(std::string_view in) {
    static const char* kHex = "0123456789abcdef";
    std::string out;
    size_t i = 0;
    while (i < in.size()) {
        const auto c = static_cast<unsigned char>(in[i]);
        if (c < 0x80) {
            switch (c) {
                case '"': out += "\\\""; break;
                case '\\': out += "\\\\"; break;
                case '\b': out += "\\b"; break;
                case '\f': out += "\\f"; break;
                case '\n': out += "\\n"; break;
                case '\r': out += "\\r"; break;
                case '\t': out += "\\t"; break;
                default:
                    if (c < 0x20) {
                        out += "\\u00";
                        out += kHex[c >> 4];
                        out += kHex[c & 15];
                    } else {
                        out += static_cast<char>(c);
                    }
            }
            ++i;
            continue;
        }
        size_t len = 0;
        uint32_t cp = 0, min = 0;
        if ((c & 0xE0) == 0xC0) {
            len = 2, cp = c & 0x1F, min = 0x80;
        } else if ((c & 0xF0) == 0xE0) {
            len = 3, cp = c & 0x0F, min = 0x800;
        } else if ((c & 0xF8) == 0xF0) {
            len = 4, cp = c & 0x07, min = 0x10000;
        }
        bool ok = len != 0 && i + len <= in.size();
        for (size_t k = 1; ok && k < len; ++k) {
            const auto cc = static_cast<unsigned char>(in[i + k]);
            ok = (cc & 0xC0) == 0x80;
            cp = (cp << 6) | (cc & 0x3F);
        }
        ok = ok && cp >= min && cp <= 0x10FFFF && !(cp >= 0xD800 && cp <= 0xDFFF);
        if (ok) {
            out.append(in.substr(i, len));
            i += len;
        } else {
            out += kFFFD;
            ++i;
        }
    }
    return out;
}

// --- escaping -------------------------------------------------------------------------

TEST(JsonEscape, EveryControlCharacter) {
    static const char* const kExpected[32] = {
        "\\u0000", "\\u0001", "\\u0002", "\\u0003", "\\u0004", "\\u0005", "\\u0006", "\\u0007",
        "\\b",     "\\t",     "\\n",     "\\u000b", "\\f",     "\\r",     "\\u000e", "\\u000f",
        "\\u0010", "\\u0011", "\\u0012", "\\u0013", "\\u0014", "\\u0015", "\\u0016", "\\u0017",
        "\\u0018", "\\u0019", "\\u001a", "\\u001b", "\\u001c", "\\u001d", "\\u001e", "\\u001f",
    };
    for (int c = 0; c < 0x20; ++c) {
        const std::string in(1, static_cast<char>(c));
        EXPECT_EQ(escape(in), kExpected[c]) << "byte 0x" << std::hex << c;
        // Between plain characters, so that the run/escape switching is exercised too.
        EXPECT_EQ(escape("a" + in + "b"), "a"s + kExpected[c] + "b") << "byte 0x" << std::hex << c;
    }
}

TEST(JsonEscape, AllControlCharactersInOneString) {
    std::string in;
    for (int c = 0; c < 0x20; ++c) in += static_cast<char>(c);
    EXPECT_EQ(escape(in),
              "\\u0000\\u0001\\u0002\\u0003\\u0004\\u0005\\u0006\\u0007\\b\\t\\n\\u000b\\f\\r\\u000e\\u000f"
              "\\u0010\\u0011\\u0012\\u0013\\u0014\\u0015\\u0016\\u0017\\u0018\\u0019\\u001a\\u001b\\u001c"
              "\\u001d\\u001e\\u001f");
}

TEST(JsonEscape, QuoteAndBackslash) {
    EXPECT_EQ(escape("\""), "\\\"");
    EXPECT_EQ(escape("\\"), "\\\\");
    EXPECT_EQ(escape(R"(say "hi" \ C:\dir\)"), R"(say \"hi\" \\ C:\\dir\\)");
    EXPECT_EQ(quoted(R"(a"b)"), R"("a\"b")");
}

TEST(JsonEscape, PrintableAsciiPassesThrough) {
    std::string in;
    for (int c = 0x20; c < 0x7F; ++c)
        if (c != '"' && c != '\\') in += static_cast<char>(c);
    EXPECT_EQ(escape(in), in);
    EXPECT_EQ(escape("/"), "/");  // solidus needs no escape
}

TEST(JsonEscape, DelAndLineSeparatorsPassThrough) {
    EXPECT_EQ(escape("\x7F"), "\x7F");
    EXPECT_EQ(escape("a\xE2\x80\xA8" "b"), "a\xE2\x80\xA8" "b");  // U+2028
    EXPECT_EQ(escape("\xE2\x80\xA9"), "\xE2\x80\xA9");             // U+2029
    EXPECT_EQ(escape("\xC2\x80\xC2\x9F"), "\xC2\x80\xC2\x9F");     // C1 controls U+0080, U+009F
}

TEST(JsonEscape, EmptyString) {
    EXPECT_EQ(escape(""), "");
    EXPECT_EQ(quoted(""), "\"\"");
}

TEST(JsonEscape, ValidMultibyteUtf8PassesThroughVerbatim) {
    const char* const kValid[] = {
        "\xC2\xA9",                  // © U+00A9, 2 bytes, lowest lead
        "\xC3\xA9t\xC3\xA9",         // été
        "\xDF\xBF",                  // U+07FF, highest 2-byte
        "\xE0\xA0\x80",              // U+0800, lowest 3-byte
        "\xE2\x82\xAC",              // € U+20AC
        "\xED\x9F\xBF",              // U+D7FF, just below the surrogates
        "\xEE\x80\x80",              // U+E000, just above them
        "\xEF\xBB\xBF",              // U+FEFF
        "\xEF\xBF\xBD",              // U+FFFD itself
        "\xEF\xBF\xBF",              // U+FFFF
        "\xF0\x90\x80\x80",          // U+10000, lowest 4-byte
        "\xF0\x9F\x98\x80",          // 😀 U+1F600
        "\xF0\x9F\x91\xA9\xE2\x80\x8D\xF0\x9F\x92\xBB",  // 👩‍💻 (ZWJ sequence)
        "\xF4\x8F\xBF\xBF",          // U+10FFFF, highest
        "M\xC3\xBCller \xE6\x97\xA5\xE6\x9C\xAC \xF0\x9F\x8E\x89!",
    };
    for (const char* s : kValid) EXPECT_EQ(escape(s), s) << s;
}

TEST(JsonEscape, InvalidUtf8EachByteBecomesReplacementCharacter) {
    struct Case {
        std::string in;
        std::string out;
    };
    const std::string R = kFFFD;
    const Case cases[] = {
        {"\x80", R},                              // lone continuation
        {"a\xBF" "b", "a" + R + "b"},             // lone continuation between ASCII
        {"\x80\x80\x80", R + R + R},              // run of continuations
        {"\xC0\x80", R + R},                      // overlong NUL
        {"\xC1\xBF", R + R},                      // overlong U+007F
        {"\xE0\x80\xAF", R + R + R},              // overlong '/' in 3 bytes
        {"\xE0\x9F\xBF", R + R + R},              // overlong U+07FF
        {"\xF0\x8F\xBF\xBF", R + R + R + R},      // overlong U+FFFF
        {"\xED\xA0\x80", R + R + R},              // U+D800 high surrogate
        {"\xED\xBF\xBF", R + R + R},              // U+DFFF low surrogate
        {"\xED\xA0\xBD\xED\xB8\x80", R + R + R + R + R + R},  // CESU-8 pair for U+1F600
        {"\xF4\x90\x80\x80", R + R + R + R},      // U+110000
        {"\xF5\x80\x80\x80", R + R + R + R},      // lead byte never valid
        {"\xFE", R},
        {"\xFF", R},
        {"\xC3" "A", R + "A"},                    // lead then ASCII
        {"\xE2\x82" "A", R + R + "A"},            // 3-byte sequence cut short
        {"\xF0\x9F\x98" "A", R + R + R + "A"},    // 4-byte sequence cut short
        {"\xC3\"", R + "\\\""},                   // lead then a byte that must be escaped
        {"\xE2\x82\n", R + R + "\\n"},
        {"\xC3\xA9\xA9", "\xC3\xA9" + R},         // valid then stray continuation
    };
    for (const Case& c : cases) {
        EXPECT_EQ(escape(c.in), c.out) << testing::PrintToString(c.in);
        EXPECT_EQ(reference_escape(c.in), c.out) << "reference disagrees: " << testing::PrintToString(c.in);
    }
}

TEST(JsonEscape, TruncatedSequencesAtEndOfInput) {
    const std::string R = kFFFD;
    EXPECT_EQ(escape("ab\xC3"), "ab" + R);
    EXPECT_EQ(escape("ab\xE2"), "ab" + R);
    EXPECT_EQ(escape("ab\xE2\x82"), "ab" + R + R);
    EXPECT_EQ(escape("ab\xF0"), "ab" + R);
    EXPECT_EQ(escape("ab\xF0\x9F"), "ab" + R + R);
    EXPECT_EQ(escape("ab\xF0\x9F\x98"), "ab" + R + R + R);
    // The truncation check must use the input's length, not a NUL terminator: the byte after
    // the view is a valid continuation here.
    struct Cut {
        std::string backing;
        size_t len;
        std::string want;
    };
    const Cut cuts[] = {
        {"x\xC3\xA9", 2, "x" + R},
        {"x\xE2\x82\xAC", 2, "x" + R},
        {"x\xE2\x82\xAC", 3, "x" + R + R},
        {"x\xF0\x9F\x98\x80", 2, "x" + R},
        {"x\xF0\x9F\x98\x80", 3, "x" + R + R},
        {"x\xF0\x9F\x98\x80", 4, "x" + R + R + R},
    };
    for (const Cut& c : cuts) {
        StringOut out;
        write_json_string_body(out.buffer(), c.backing.data(), c.len);
        EXPECT_EQ(out.str(), c.want) << testing::PrintToString(c.backing) << " cut at " << c.len;
    }
}

// kChunk in json_text.cpp: the escaper reserves output per 4096 input bytes.
constexpr size_t kChunk = 4096;

TEST(JsonEscape, ValidSequenceStraddlingTheChunkBoundary) {
    const std::string emoji = "\xF0\x9F\x98\x80";
    const std::string euro = "\xE2\x82\xAC";
    for (size_t before = kChunk - 5; before <= kChunk + 1; ++before) {
        for (const std::string& seq : {emoji, euro, std::string("\xC3\xA9")}) {
            std::string in(before, 'a');
            in += seq;
            in += "z\"";
            EXPECT_EQ(escape(in), std::string(before, 'a') + seq + "z\\\"") << "prefix " << before;
        }
    }
}

TEST(JsonEscape, InvalidSequenceStraddlingTheChunkBoundary) {
    const std::string R = kFFFD;
    for (size_t before = kChunk - 4; before <= kChunk + 1; ++before) {
        // Surrogate, truncated emoji, overlong: each spans the boundary for some prefix.
        std::string in(before, 'a');
        in += "\xED\xA0\x80";
        in += "\xF0\x9F\x98";
        in += "\xC0\x80";
        in += "\n";
        EXPECT_EQ(escape(in), std::string(before, 'a') + R + R + R + R + R + R + R + R + "\\n")
            << "prefix " << before;
        // Truncated at the very end of an input whose end is just past the boundary.
        std::string tail(before, 'b');
        tail += "\xF0\x9F\x98";
        EXPECT_EQ(escape(tail), std::string(before, 'b') + R + R + R) << "prefix " << before;
    }
}

TEST(JsonEscape, EscapesAtChunkEdgesMatchReference) {
    // Worst-case expansion (6 bytes per input byte) right at and around the boundaries.
    for (size_t n : {kChunk - 1, kChunk, kChunk + 1, 2 * kChunk - 1, 2 * kChunk, 2 * kChunk + 3}) {
        std::string all_escapes(n, '\x01');
        EXPECT_EQ(escape(all_escapes), reference_escape(all_escapes)) << n;
        EXPECT_EQ(escape(all_escapes).size(), n * 6);
        std::string mixed(n, 'x');
        for (size_t edge = kChunk; edge < n + 2; edge += kChunk)
            for (size_t i = edge - 2; i < edge + 2 && i < n; ++i) mixed[i] = (i % 2) ? '"' : '\x1f';
        EXPECT_EQ(escape(mixed), reference_escape(mixed)) << n;
    }
}

TEST(JsonEscape, LongStringOverOneMegabyteMatchesReference) {
    // A mix of plain runs, escapes, valid multibyte, and invalid bytes, with a period
    // (37) that does not divide the chunk size, so every kind lands on a boundary somewhere.
    const std::string pattern =
        "Lorem \"ipsum\"\\\n\t\x01 \xC3\xA9\xE2\x82\xAC\xF0\x9F\x98\x80\xED\xA0\x80\xFF" "abcdef";
    ASSERT_EQ(pattern.size(), 37u);
    std::string in;
    while (in.size() < (1u << 20) + 12345) in += pattern;
    const std::string got = escape(in);
    const std::string want = reference_escape(in);
    ASSERT_EQ(got.size(), want.size());
    EXPECT_TRUE(got == want);
    EXPECT_TRUE(valid("\"" + got + "\""));
}

TEST(JsonEscape, LongPlainAndLongEmojiText) {
    std::string plain(3 * kChunk + 17, 'q');
    EXPECT_EQ(escape(plain), plain);
    std::string emoji;
    while (emoji.size() < 3 * kChunk) emoji += "\xF0\x9F\x98\x80";
    emoji += "\xE2\x82\xAC";  // shifts the next copy by 3 bytes
    while (emoji.size() < 6 * kChunk) emoji += "\xF0\x9F\x98\x80";
    EXPECT_EQ(escape(emoji), emoji);
}

TEST(JsonEscape, RandomBytesMatchReference) {
    std::mt19937 rng(20261124);
    // Bytes weighted towards the interesting classes.
    const std::string alphabet = "az \"\\\n\x01\x7F\x80\xBF\xC0\xC2\xC3\xDF\xE0\xE2\xED\xEF\xF0\xF4\xF5\xFF\xA0\x9F\x8F\x90";
    for (int round = 0; round < 300; ++round) {
        size_t len = round < 200 ? rng() % 64 : kChunk - 8 + rng() % 16 + (rng() % 3) * kChunk;
        std::string in;
        for (size_t i = 0; i < len; ++i) {
            if (rng() % 4 == 0)
                in += static_cast<char>(rng() & 0xFF);
            else
                in += alphabet[rng() % alphabet.size()];
        }
        const std::string got = escape(in);
        ASSERT_EQ(got, reference_escape(in)) << "round " << round << " input " << testing::PrintToString(in);
        ASSERT_TRUE(valid("\"" + got + "\"")) << "round " << round;
    }
}

TEST(JsonEscape, EachSpecialByteAtEachPositionOfShortStrings) {
    // Short strings are scanned a word at a time, with the last word overlapping the one
    // before: a special byte must be found wherever it sits, and only where it sits.
    const std::string specials[] = {"\x01", "\x1f", "\"", "\\", "\xC3\xA9", "\xFF", "\x80", "\x7F", " ", "~"};
    for (size_t len = 1; len <= 40; ++len) {
        for (size_t at = 0; at < len; ++at) {
            for (const std::string& special : specials) {
                std::string in(len, 'a');
                in.replace(at, 1, special);
                ASSERT_EQ(escape(in), reference_escape(in)) << "length " << len << " at " << at << " "
                                                           << testing::PrintToString(special);
            }
        }
    }
}

TEST(JsonEscape, ShortStringsEndingAtAPageEndAreNotReadPastIt) {
    // Short strings are checked with one 16-byte load, which may read beyond the string but
    // must never cross into the next page: here that page is unreadable, and a read of it
    // would kill the test.
    const long page = sysconf(_SC_PAGESIZE);
    void* mem = mmap(nullptr, 2 * page, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    ASSERT_NE(mem, MAP_FAILED);
    ASSERT_EQ(mprotect(static_cast<char*>(mem) + page, page, PROT_NONE), 0);
    char* page_end = static_cast<char*>(mem) + page;
    for (size_t len = 0; len < 20; ++len) {
        for (const char* fill : {"a", "\""}) {
            std::string in(len, fill[0]);
            char* at = page_end - len;
            std::memcpy(at, in.data(), len);
            StringOut out;
            write_json_string_body(out.buffer(), at, len);
            EXPECT_EQ(out.str(), reference_escape(in)) << "length " << len;
        }
    }
    munmap(mem, 2 * page);
}

TEST(JsonEscape, AppendsAfterExistingContent) {
    StringOut out;
    out.buffer().append("prefix:");
    write_json_string(out.buffer(), "a\nb", 3);
    EXPECT_EQ(out.str(), "prefix:\"a\\nb\"");
}

// --- base64 ---------------------------------------------------------------------------

TEST(Base64, Rfc4648TestVectors) {
    EXPECT_EQ(base64(""), "");
    EXPECT_EQ(base64("f"), "Zg==");
    EXPECT_EQ(base64("fo"), "Zm8=");
    EXPECT_EQ(base64("foo"), "Zm9v");
    EXPECT_EQ(base64("foob"), "Zm9vYg==");
    EXPECT_EQ(base64("fooba"), "Zm9vYmE=");
    EXPECT_EQ(base64("foobar"), "Zm9vYmFy");
}

TEST(Base64, BinaryAndHighAlphabet) {
    EXPECT_EQ(base64("\x00"s), "AA==");
    EXPECT_EQ(base64("\x00\x00"s), "AAA=");
    EXPECT_EQ(base64("\x00\x00\x00"s), "AAAA");
    EXPECT_EQ(base64("\xFF\xFE\xFD"), "//79");
    EXPECT_EQ(base64("\xFB\xFF"), "+/8=");
    EXPECT_EQ(base64("\xFF"), "/w==");
    EXPECT_EQ(base64("\x00\xFF\xFE"s), "AP/+");
}

std::string reference_base64(std::string_view in) {
    static const char* kAlphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    std::string out;
    uint32_t bits = 0;
    int nbits = 0;
    for (unsigned char c : in) {
        bits = (bits << 8) | c;
        nbits += 8;
        while (nbits >= 6) {
            nbits -= 6;
            out += kAlphabet[(bits >> nbits) & 63];
        }
    }
    if (nbits > 0) out += kAlphabet[(bits << (6 - nbits)) & 63];
    while (out.size() % 4) out += '=';
    return out;
}

TEST(Base64, LengthsZeroToFiveAndBeyondMatchReference) {
    std::string in;
    for (size_t n = 0; n <= 1100; ++n) {
        ASSERT_EQ(base64(in), reference_base64(in)) << "length " << n;
        ASSERT_EQ(base64(in).size(), (n + 2) / 3 * 4);
        in += static_cast<char>((n * 151 + 7) & 0xFF);
    }
    EXPECT_EQ(base64("\x01"), "AQ==");
    EXPECT_EQ(base64("\x01\x02"), "AQI=");
    EXPECT_EQ(base64("\x01\x02\x03"), "AQID");
    EXPECT_EQ(base64("\x01\x02\x03\x04"), "AQIDBA==");
    EXPECT_EQ(base64("\x01\x02\x03\x04\x05"), "AQIDBAU=");
}

// --- is_valid_json --------------------------------------------------------------------

TEST(IsValidJson, AcceptsSingleValues) {
    const char* const kValid[] = {
        "{}", "[]", "0", "-0", "1", "-12.5e+3", "0.5", "1E-7", "true", "false", "null", "\"\"", "\"x\"",
        "{\"a\":[1,2.5e3,true,false,null,{\"b\":\"c\"}]}",
        "\"\\u00e9\\ud83d\\ude00\\n\\\"\\\\\\/\"",   // escapes incl. a surrogate pair
        "\"\xC3\xA9\xE2\x82\xAC\xF0\x9F\x98\x80\"",  // raw UTF-8 in a string
        "\"\x7F\"",                                   // DEL needs no escape
        "123456789012345678901234567890",            // beyond int64: still a JSON number
    };
    for (const char* s : kValid) EXPECT_TRUE(valid(s)) << s;
}

TEST(IsValidJson, AcceptsSurroundingWhitespace) {
    EXPECT_TRUE(valid(" {} "));
    EXPECT_TRUE(valid("\n\t\r [1 , 2 ]\r\n\t "));
    EXPECT_TRUE(valid("  \"s\"\n"));
}

TEST(IsValidJson, RejectsNonJson) {
    const char* const kInvalid[] = {
        "", " ", "\n\t", "{", "}", "[1,]", "{\"a\":1,}", "{'a':1}", "{a:1}", "tru", "nul", "True", "NaN",
        "Infinity", "-Infinity", "01", "1.", ".5", "+1", "0x10", "\"unterminated", "\"bad \\x escape\"",
        "\"raw\nnewline\"", "\"raw\ttab\"", "// comment\n1", "/* c */ 1", "plain text",
    };
    for (const char* s : kInvalid) EXPECT_FALSE(valid(s)) << testing::PrintToString(std::string(s));
}

TEST(IsValidJson, RejectsTrailingGarbage) {
    EXPECT_FALSE(valid("{} x"));
    EXPECT_FALSE(valid("{}{}"));
    EXPECT_FALSE(valid("1 2"));
    EXPECT_FALSE(valid("\"a\"\"b\""));
    EXPECT_FALSE(valid("[1]]"));
    EXPECT_FALSE(valid("{} \x01"));
}

TEST(IsValidJson, RejectsInvalidUtf8InsideStrings) {
    EXPECT_FALSE(valid("\"\xC3\""));              // truncated
    EXPECT_FALSE(valid("\"\x80\""));              // lone continuation
    EXPECT_FALSE(valid("\"\xC0\x80\""));          // overlong
    EXPECT_FALSE(valid("\"\xED\xA0\x80\""));      // surrogate
    EXPECT_FALSE(valid("\"\xF4\x90\x80\x80\""));  // above U+10FFFF
    EXPECT_FALSE(valid("\"\xFF\""));
    EXPECT_FALSE(valid("{\"\xC3\":1}"));          // in a member name
    EXPECT_FALSE(valid("[\"ok\",\"\xE2\x82\"]"));
}

TEST(IsValidJson, RejectsBytesOutsideStrings) {
    EXPECT_FALSE(valid("\xC3\xA9"));
    EXPECT_FALSE(valid("[1,\xC3\xA9]"));
}

TEST(IsValidJson, UsesTheGivenLengthNotNulTermination) {
    const std::string s = "{\"a\":1}garbage";
    EXPECT_TRUE(is_valid_json(s.data(), 7));
    EXPECT_FALSE(is_valid_json(s.data(), 8));
    EXPECT_FALSE(is_valid_json(s.data(), 6));
}

// Bytes judged valid are embedded verbatim into a message, so everything the parser
// tolerates beyond RFC 8259 makes the message invalid. These three fail with the current
// json_text.cpp (RapidJSON's EncodedInputStream and MemoryStream leniencies).
TEST(IsValidJson, RejectsEmbeddedNulAndWhatFollowsIt) {
    EXPECT_FALSE(valid("{}\0garbage"s));
    EXPECT_FALSE(valid("1\0"s));
    EXPECT_FALSE(valid("{\"a\":1} \0 ]]]"s));
}

TEST(IsValidJson, RejectsLeadingByteOrderMark) {
    EXPECT_FALSE(valid("\xEF\xBB\xBF{}"));
    EXPECT_FALSE(valid("\xEF\xBB\xBF\"x\""));
}

TEST(IsValidJson, RejectsStrayLeadBytesBeforeTheValue) {
    // Not even valid UTF-8, yet the BOM skipper swallows them.
    EXPECT_FALSE(valid("\xEF{}"));
    EXPECT_FALSE(valid("\xEF\xBB[1]"));
    EXPECT_FALSE(valid("\xEF\"x\""));
}

// A logical message's payload is checked in the walsender, where a stack overflow is a
// SIGSEGV that restarts every backend and recurs on every retry of the same WAL. The check
// must use bounded stack whatever the nesting (valid or not, either answer is safe). Fails
// with the current json_text.cpp: RapidJSON's recursive Reader overflows 8 MB of stack
// somewhere between 10^5 and 10^6 levels.
TEST(IsValidJsonDeathTest, DeepNestingDoesNotOverflowTheStack) {
    GTEST_FLAG_SET(death_test_style, "threadsafe");
    EXPECT_EXIT(
        {
            const size_t depth = size_t{1} << 22;  // an 8 MB payload
            std::string doc(depth, '[');
            doc.append(depth, ']');
            volatile bool answer = valid(doc);
            std::string objects;
            for (size_t i = 0; i < depth / 8; ++i) objects += "{\"a\":";
            objects += "1";
            objects.append(depth / 8, '}');
            answer = valid(objects);
            (void)answer;
            std::exit(0);
        },
        ::testing::ExitedWithCode(0), "");
}

}  // namespace
}  // namespace crmsync::render
