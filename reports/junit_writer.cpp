// JUnit XML as CI systems read it (Jenkins, GitLab, GitHub test reporters): <testsuites>
// holding one <testsuite> per catalog and one <testcase> per scenario.

#include "reports/writers.hpp"

#include <pugixml.hpp>
#include <sstream>

namespace gatehouse::reports {

namespace {

std::string seconds(double s) {
    std::ostringstream out;
    out.precision(3);
    out << std::fixed << s;
    return out.str();
}

std::string suite_name(const report& r) {
    return r.run.catalog.empty() ? std::string("gatehouse") : r.run.catalog;
}

std::string trace_text(const scenario_result& s) {
    std::ostringstream out;
    for (const auto& trace : s.traces) {
        out << "client " << trace.client << ":\n";
        for (const auto& step : trace.steps)
            out << "  " << seconds(step.at_ms / 1000.0) << "s " << step.kind << ' ' << step.detail
                << (step.failed ? "  <-- failed" : "") << '\n';
    }
    return out.str();
}

}  // namespace

void write_junit(const report& r, std::ostream& out) {
    auto t = count(r);
    pugi::xml_document doc;
    auto decl = doc.append_child(pugi::node_declaration);
    decl.append_attribute("version") = "1.0";
    decl.append_attribute("encoding") = "UTF-8";

    auto suites = doc.append_child("testsuites");
    suites.append_attribute("name") = "gatehouse";
    suites.append_attribute("tests") = static_cast<unsigned long long>(r.scenarios.size());
    suites.append_attribute("failures") = static_cast<unsigned long long>(t.failed);
    suites.append_attribute("errors") = static_cast<unsigned long long>(t.errors);
    suites.append_attribute("skipped") = static_cast<unsigned long long>(t.unsupported);
    suites.append_attribute("time") = seconds(t.duration_s).c_str();

    auto suite = suites.append_child("testsuite");
    suite.append_attribute("name") = suite_name(r).c_str();
    suite.append_attribute("tests") = static_cast<unsigned long long>(r.scenarios.size());
    suite.append_attribute("failures") = static_cast<unsigned long long>(t.failed);
    suite.append_attribute("errors") = static_cast<unsigned long long>(t.errors);
    suite.append_attribute("skipped") = static_cast<unsigned long long>(t.unsupported);
    suite.append_attribute("time") = seconds(t.duration_s).c_str();
    if (!r.run.started_at.empty()) suite.append_attribute("timestamp") = r.run.started_at.c_str();
    if (!r.run.host.empty()) suite.append_attribute("hostname") = r.run.host.c_str();

    auto properties = suite.append_child("properties");
    auto property = [&](const char* name, const std::string& value) {
        auto p = properties.append_child("property");
        p.append_attribute("name") = name;
        p.append_attribute("value") = value.c_str();
    };
    property("sut", r.run.sut);
    property("tool", r.run.tool);
    property("version", r.run.version);
    if (r.run.time_scale > 0) property("time_scale", seconds(r.run.time_scale));

    const std::string classname = "gatehouse." + suite_name(r);
    for (const auto& s : r.scenarios) {
        auto testcase = suite.append_child("testcase");
        testcase.append_attribute("name") = (s.id + ": " + s.title).c_str();
        testcase.append_attribute("classname") = classname.c_str();
        testcase.append_attribute("time") = seconds(s.duration_s).c_str();
        switch (s.outcome) {
            case verdict::passed: break;
            case verdict::failed: {
                std::ostringstream text;
                std::string first;
                for (const auto& e : s.expectations) {
                    if (e.passed) continue;
                    std::string line = e.name + ": expected " + e.expected + ", observed " +
                                       e.observed + (e.where.empty() ? "" : " (" + e.where + ")");
                    if (first.empty()) first = line;
                    text << line << '\n';
                }
                auto failure = testcase.append_child("failure");
                failure.append_attribute("message") = (first.empty() ? s.reason : first).c_str();
                failure.append_attribute("type") = "expectation";
                failure.text() = text.str().c_str();
                break;
            }
            case verdict::error: {
                auto error = testcase.append_child("error");
                error.append_attribute("message") = s.reason.c_str();
                error.append_attribute("type") = "error";
                error.text() = s.reason.c_str();
                break;
            }
            case verdict::unsupported: {
                auto skipped = testcase.append_child("skipped");
                skipped.append_attribute("message") = s.reason.c_str();
                break;
            }
        }
        if (auto trace = trace_text(s); !trace.empty())
            testcase.append_child("system-out").text() = trace.c_str();
    }
    doc.save(out, "  ", pugi::format_default, pugi::encoding_utf8);
}

}  // namespace gatehouse::reports
