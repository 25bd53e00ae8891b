package metrics

import (
	"fmt"
	"math"

	"google.golang.org/protobuf/encoding/protowire"
)

// Field numbers of envoy.service.metrics.v3.StreamMetricsMessage and of the
// io.prometheus.client messages it carries.
const (
	msgIdentifier   protowire.Number = 1
	msgEnvoyMetrics protowire.Number = 2
	identifierNode  protowire.Number = 1
	nodeID          protowire.Number = 1

	familyName   protowire.Number = 1
	familyType   protowire.Number = 3
	familyMetric protowire.Number = 4

	metricLabel     protowire.Number = 1
	metricGauge     protowire.Number = 2
	metricCounter   protowire.Number = 3
	metricSummary   protowire.Number = 4
	metricUntyped   protowire.Number = 5
	metricHistogram protowire.Number = 7

	labelName  protowire.Number = 1
	labelValue protowire.Number = 2
	valueField protowire.Number = 1 // in Counter and in Gauge

	// io.prometheus.client.MetricType: COUNTER is also the default when none is sent.
	// Like proto.Unmarshal in Go, the decoder takes any int32 as the type, known or not.
	typeCounter = 0
	typeGauge   = 1
)

// maxExactValue is the largest count a float64 holds exactly; Envoy's counters and gauges
// are integers, which the sink keeps as such.
const maxExactValue = 1 << 53

// reason is why a sample, or a family, was not applied. Each is a label value of
// edgetel_envoy_stats_samples_dropped_total.
type reason uint8

const (
	reasonFamilyLimit    reason = iota // a family past MaxFamiliesPerMessage, skipped unread
	reasonMetricLimit                  // a metric past MaxMetricsPerFamily
	reasonLabelLimit                   // too many labels, or one too long
	reasonNoCluster                    // no envoy.cluster_name label
	reasonWrongType                    // a family or metric of another type than the stat's
	reasonBadValue                     // no value, or one that is not a whole number >= 0
	reasonUnknownCluster               // a cluster the model does not have (set by the Store)
	numReasons
)

var reasonNames = [numReasons]string{"family_limit", "metric_limit", "label_limit",
	"no_cluster_label", "wrong_type", "bad_value", "unknown_cluster"}

// sample is one kept metric: a stat of a cluster and its value, a counter's delta or a
// gauge's level.
type sample struct {
	cluster []byte // a view of the message
	stat    stat
	value   uint64
}

// decoded is one message as the decoder read it. It is reused message after message.
type decoded struct {
	node    []byte // the identifier's node ID, a view of the message; nil without one
	samples []sample
	dropped [numReasons]int
}

func (d *decoded) reset() {
	clear(d.samples) // drop the views of the previous message
	d.samples = d.samples[:0]
	d.node = nil
	d.dropped = [numReasons]int{}
}

// decoder reads StreamMetricsMessage straight from the wire, keeping only the stats
// edgetel uses: a family whose name is not one of them is skipped without being parsed,
// which is nearly every family Envoy sends. Nothing is allocated per family or metric.
//
// Only the fields it reads are checked, and a field it reads must have its declared wire
// type (proto.Unmarshal would keep it as an unknown field); groups are rejected. A message
// that fails either is malformed as a whole: no part of it is kept, since its counters are
// deltas and half a message applied would be a wrong count for good.
type decoder struct {
	cfg Config
}

// decode replaces out with what msg holds.
func (d *decoder) decode(msg []byte, out *decoded) error {
	out.reset()
	families := 0
	r := reader{msg}
	for r.more() {
		num, typ, err := r.tag()
		if err == nil {
			switch num {
			case msgIdentifier:
				err = d.identifier(&r, typ, out)
			case msgEnvoyMetrics:
				var v []byte
				if v, err = r.bytes(typ); err == nil {
					families++
					err = d.family(v, families, out)
				}
			default:
				err = r.skip(num, typ)
			}
		}
		if err != nil {
			out.reset()
			return fmt.Errorf("%w: %w", ErrMalformed, fieldError("StreamMetricsMessage", num, err))
		}
	}
	return nil
}

// identifier reads the node ID of an Identifier. Like proto.Unmarshal, a later Identifier
// or Node merges into an earlier one: the last ID sent wins.
func (d *decoder) identifier(r *reader, typ protowire.Type, out *decoded) error {
	v, err := r.bytes(typ)
	if err != nil {
		return err
	}
	ir := reader{v}
	for ir.more() {
		num, wt, err := ir.tag()
		if err == nil {
			if num == identifierNode {
				var node, id []byte
				if node, err = ir.bytes(wt); err == nil {
					id, err = lastBytes(node, nodeID)
				}
				if id != nil {
					out.node = id
				}
			} else {
				err = ir.skip(num, wt)
			}
		}
		if err != nil {
			return fieldError("Identifier", num, err)
		}
	}
	return nil
}

// lastBytes returns the last value of the length-delimited field num of msg (nil if
// absent), checking that every field of msg is well formed.
func lastBytes(msg []byte, num protowire.Number) ([]byte, error) {
	var out []byte
	r := reader{msg}
	for r.more() {
		n, t, err := r.tag()
		if err == nil {
			if n == num {
				var v []byte
				if v, err = r.bytes(t); err == nil {
					out = v
				}
			} else {
				err = r.skip(n, t)
			}
		}
		if err != nil {
			return nil, fieldError("Node", n, err)
		}
	}
	return out, nil
}

// family reads the n-th MetricFamily of the message. It reads name and type first, since a
// family may put them after its metrics, and then only the metrics of a kept stat.
func (d *decoder) family(b []byte, n int, out *decoded) error {
	if n > d.cfg.MaxFamiliesPerMessage {
		out.dropped[reasonFamilyLimit]++
		return nil
	}
	var name []byte
	var typ int32 = typeCounter
	metrics := 0
	r := reader{b}
	for r.more() {
		num, wt, err := r.tag()
		if err == nil {
			switch num {
			case familyName:
				name, err = r.bytes(wt)
			case familyType:
				var v uint64
				v, err = r.varint(wt)
				typ = int32(v)
			case familyMetric:
				_, err = r.bytes(wt)
				metrics++
			default:
				err = r.skip(num, wt)
			}
		}
		if err != nil {
			return fieldError("MetricFamily", num, err)
		}
	}
	st, ok := statOf(name)
	switch {
	case !ok:
		return nil
	case st.isGauge() && typ != typeGauge || !st.isGauge() && typ != typeCounter:
		out.dropped[reasonWrongType] += metrics
		return nil
	}
	return d.metrics(b, st, out)
}

// metrics reads the metrics of a kept family, whose fields are known to be well formed.
func (d *decoder) metrics(b []byte, st stat, out *decoded) error {
	r := reader{b}
	for i := 0; r.more(); {
		num, wt, _ := r.tag()
		if num != familyMetric {
			_ = r.skip(num, wt)
			continue
		}
		v, _ := r.bytes(wt)
		if i++; i > d.cfg.MaxMetricsPerFamily {
			out.dropped[reasonMetricLimit]++
			continue
		}
		if err := d.metric(v, st, out); err != nil {
			return fieldError("MetricFamily", familyMetric, fmt.Errorf("metric %d: %w", i-1, err))
		}
	}
	return nil
}

// metricFields is what a Metric holds that decides whether it is kept.
type metricFields struct {
	cluster              []byte
	hasCluster           bool
	labels               int
	labelTooLong         bool
	value                float64
	hasValue, otherValue bool
}

// metric reads one Metric of stat st and keeps it as a sample, or counts why not.
func (d *decoder) metric(b []byte, st stat, out *decoded) error {
	var m metricFields
	want := metricCounter
	if st.isGauge() {
		want = metricGauge
	}
	r := reader{b}
	for r.more() {
		num, wt, err := r.tag()
		if err == nil {
			err = d.metricField(&r, num, wt, want, &m)
		}
		if err != nil {
			return fieldError("Metric", num, err)
		}
	}
	why, ok := d.verdict(&m)
	if !ok {
		out.dropped[why]++
		return nil
	}
	out.samples = append(out.samples, sample{cluster: m.cluster, stat: st, value: uint64(m.value)})
	return nil
}

func (d *decoder) metricField(r *reader, num protowire.Number, wt protowire.Type, want protowire.Number, m *metricFields) error {
	switch num {
	case metricLabel:
		v, err := r.bytes(wt)
		if err != nil {
			return err
		}
		m.labels++
		return d.label(v, m)
	case metricGauge, metricCounter:
		v, err := r.bytes(wt)
		if err != nil {
			return err
		}
		bits, has, err := value(v)
		if num != want {
			m.otherValue = true
		} else if has {
			m.value, m.hasValue = math.Float64frombits(bits), true
		} else if !m.hasValue {
			m.hasValue = true // a Counter or Gauge without its value field holds 0
		}
		return err
	case metricSummary, metricUntyped, metricHistogram:
		m.otherValue = true
		_, err := r.bytes(wt)
		return err
	}
	return r.skip(num, wt)
}

// label reads a LabelPair, keeping the cluster name.
func (d *decoder) label(b []byte, m *metricFields) error {
	var name, val []byte
	r := reader{b}
	for r.more() {
		num, wt, err := r.tag()
		if err == nil {
			switch num {
			case labelName:
				name, err = r.bytes(wt)
			case labelValue:
				val, err = r.bytes(wt)
			default:
				err = r.skip(num, wt)
			}
		}
		if err != nil {
			return fieldError("LabelPair", num, err)
		}
	}
	if len(name) > d.cfg.MaxLabelBytes || len(val) > d.cfg.MaxLabelBytes {
		m.labelTooLong = true
	}
	if string(name) == ClusterNameLabel {
		m.cluster, m.hasCluster = val, true
	}
	return nil
}

// value reads the value field of a Counter or a Gauge, as raw float64 bits.
func value(b []byte) (bits uint64, has bool, err error) {
	r := reader{b}
	for r.more() {
		num, wt, err := r.tag()
		if err == nil {
			if num == valueField {
				bits, err = r.fixed64(wt)
				has = true
			} else {
				err = r.skip(num, wt)
			}
		}
		if err != nil {
			return 0, false, fieldError("value", num, err)
		}
	}
	return bits, has, nil
}

// verdict says whether a metric is kept, or why not.
func (d *decoder) verdict(m *metricFields) (reason, bool) {
	v := m.value
	switch {
	case m.labels > d.cfg.MaxLabelsPerMetric || m.labelTooLong:
		return reasonLabelLimit, false
	case m.otherValue:
		return reasonWrongType, false
	case !m.hasCluster:
		return reasonNoCluster, false
	case !m.hasValue || math.IsNaN(v) || v < 0 || v > maxExactValue || v != math.Trunc(v):
		return reasonBadValue, false
	}
	return 0, true
}
