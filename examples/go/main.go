// Command produce-consume produces and consumes through kafka-sidecar's gRPC API, from Go.
//
//  1. Produces three records (a key, a value and a "run-id" header each) in one Produce call.
//  2. Opens a consumer session in a group of its own, polls, and acks every record it is given,
//     one by one (manual acks: an ack says "done with this record").
//  3. Commits what was acked, closes the session, and checks that each record it produced came
//     back as it was sent, at the partition and offset that Produce reported.
//
// Exits 0 when everything matched, 1 with a message naming what was missing or different.
//
//	SIDECAR_GRPC   the sidecar's gRPC address (default localhost:50051)
//	SIDECAR_TOPIC  the topic (default "demo", which --embedded-broker creates)
//
// The stubs come from protoc with protoc-gen-go and protoc-gen-go-grpc (see examples/README.md),
// in the package sidecarpb/kafka/sidecar/v1 of the build's GOPATH.
package main

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"os"
	"sort"
	"time"

	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
	"google.golang.org/protobuf/proto"

	sidecar "sidecarpb/kafka/sidecar/v1"
)

const (
	recordCount     = 3
	consumeDeadline = 30 * time.Second
	callTimeout     = 10 * time.Second
	retryAttempts   = 5
)

// errProgramming marks a request that the sidecar refused as malformed (INVALID_ARGUMENT): a bug
// in this program, which no retry can fix.
var errProgramming = errors.New("the sidecar refused a request as invalid (a bug here)")

// call runs one unary call of the sidecar with a deadline, retrying a few times while the sidecar
// is UNAVAILABLE.
//
// UNAVAILABLE means the sidecar is draining (its pod is stopping and a new one will take over),
// cannot be reached yet, or Kafka did not answer a commit in time: trying again shortly is the
// right reaction. Produce is safe to retry: at worst a record is written twice, which
// at-least-once delivery allows. INVALID_ARGUMENT names the field of the request that is wrong;
// retrying cannot help. Other codes (NOT_FOUND for an expired session, FAILED_PRECONDITION after
// a rebalance, ...) are left to the caller.
func call[Response any](ctx context.Context,
	method func(context.Context) (Response, error)) (Response, error) {
	delay := 200 * time.Millisecond
	for attempt := 1; ; attempt++ {
		callCtx, cancel := context.WithTimeout(ctx, callTimeout)
		response, err := method(callCtx)
		cancel()
		switch status.Code(err) {
		case codes.OK:
			return response, nil
		case codes.Unavailable:
			if attempt < retryAttempts {
				fmt.Fprintf(os.Stderr, "sidecar unavailable (%v), retrying in %v\n", err, delay)
				time.Sleep(delay)
				delay = minDuration(2*delay, 5*time.Second)
				continue
			}
		case codes.InvalidArgument:
			return response, fmt.Errorf("%w: %s", errProgramming, status.Convert(err).Message())
		}
		return response, err
	}
}

func minDuration(a, b time.Duration) time.Duration {
	if a < b {
		return a
	}
	return b
}

// place is where Kafka put a record.
type place struct {
	partition int32
	offset    int64
}

// records are records produced, by the place each got.
type records map[place]*sidecar.ProduceRecord

// produce writes recordCount records and returns them by the place each got.
func produce(ctx context.Context, producer sidecar.ProducerClient, topic,
	runID string) (records, error) {
	request := &sidecar.ProduceRequest{Topic: topic}
	for i := 0; i < recordCount; i++ {
		request.Records = append(request.Records, &sidecar.ProduceRecord{
			Key:     []byte(fmt.Sprintf("order-%d", i)),
			Value:   []byte(fmt.Sprintf("order %d of run %s", i, runID)),
			Headers: []*sidecar.RecordHeader{{Key: "run-id", Value: []byte(runID)}},
		})
	}
	response, err := call(ctx, func(ctx context.Context) (*sidecar.ProduceResponse, error) {
		return producer.Produce(ctx, request)
	})
	if err != nil {
		return nil, err
	}
	// One result per record, in request order. A record that failed says why; the sidecar has
	// already retried it for its whole delivery timeout.
	produced := make(records)
	for i, result := range response.Results {
		record := request.Records[i]
		if result.Error != nil {
			return nil, fmt.Errorf("record %s was not delivered: %s: %s", record.Key,
				result.Error.Name, result.Error.Message)
		}
		produced[place{result.Partition, result.Offset}] = record
		fmt.Printf("produced %s to %s/%d at offset %d\n", record.Key, topic, result.Partition,
			result.Offset)
	}
	return produced, nil
}

// consume reads the topic as a member of group until every produced record came back; it acks
// every record it is given (ours and any other), commits and closes. It returns what it found
// wrong, or the error that stopped it.
func consume(ctx context.Context, consumer sidecar.ConsumerClient, topic, group, runID string,
	produced records) (problems []string, err error) {
	spec := &sidecar.SessionSpec{
		Group:  group,
		Topics: []string{topic},
		// A new group has no committed offsets: start at the beginning of each partition.
		OffsetReset: sidecar.OffsetReset_OFFSET_RESET_EARLIEST,
		AckMode:     sidecar.AckMode_ACK_MODE_MANUAL,
	}
	opened, err := call(ctx, func(ctx context.Context) (*sidecar.OpenResponse, error) {
		return consumer.Open(ctx, &sidecar.OpenRequest{Spec: spec})
	})
	if err != nil {
		return nil, err
	}
	sessionID := opened.SessionId
	fmt.Printf("opened session %s in group %s\n", sessionID, group)
	defer func() {
		// Leaves the group at once; the session would otherwise linger for its idle TTL.
		_, closeErr := call(ctx, func(ctx context.Context) (*sidecar.CloseResponse, error) {
			return consumer.Close(ctx, &sidecar.CloseRequest{SessionId: sessionID})
		})
		if err == nil {
			err = closeErr
		}
		fmt.Printf("closed session %s\n", sessionID)
	}()

	missing := make(records, len(produced))
	for at, record := range produced {
		missing[at] = record
	}
	deadline := time.Now().Add(consumeDeadline)
	for len(missing) > 0 && time.Now().Before(deadline) {
		// A long poll: answers as soon as records are there, or after TimeoutMs.
		polled, err := call(ctx, func(ctx context.Context) (*sidecar.PollResponse, error) {
			return consumer.Poll(ctx, &sidecar.PollRequest{SessionId: sessionID,
				TimeoutMs: proto.Uint32(1000)})
		})
		if err != nil {
			return nil, err
		}
		for _, event := range polled.Events {
			if failure := event.GetError(); failure != nil && failure.Fatal {
				return nil, fmt.Errorf("session ended: %s", failure.Error.GetMessage())
			}
		}
		for _, batch := range polled.Records {
			for _, record := range batch.Records {
				problems = append(problems, check(batch, record, runID, missing)...)
				// Acked once handled: the commit below covers it, and the group will not
				// deliver it again. Unacked records come back after the ack timeout.
				ack := &sidecar.AckRequest{SessionId: sessionID,
					Partitions: []*sidecar.PartitionOffsets{{Topic: batch.Topic,
						Partition: batch.Partition, Offsets: []int64{record.Offset}}}}
				if _, err := call(ctx, func(ctx context.Context) (*sidecar.AckResponse, error) {
					return consumer.Ack(ctx, ack)
				}); err != nil {
					return nil, err
				}
			}
		}
	}

	// Commit now rather than wait for the auto-commit interval (Close would commit too).
	committed, err := call(ctx, func(ctx context.Context) (*sidecar.CommitResponse, error) {
		return consumer.Commit(ctx, &sidecar.CommitRequest{SessionId: sessionID})
	})
	if err != nil {
		return nil, err
	}
	for _, partition := range committed.Partitions {
		if partition.Error != nil {
			problems = append(problems, fmt.Sprintf("commit of %s/%d failed: %s",
				partition.Topic, partition.Partition, partition.Error.Name))
		} else {
			fmt.Printf("committed %s/%d up to offset %d\n", partition.Topic, partition.Partition,
				partition.Offset)
		}
	}

	var late []place
	for at := range missing {
		late = append(late, at)
	}
	sort.Slice(late, func(i, j int) bool {
		return late[i].partition < late[j].partition ||
			(late[i].partition == late[j].partition && late[i].offset < late[j].offset)
	})
	for _, at := range late {
		problems = append(problems, fmt.Sprintf(
			"record %s (%s/%d at offset %d) was not delivered within %v",
			missing[at].Key, topic, at.partition, at.offset, consumeDeadline))
	}
	return problems, nil
}

// check compares a consumed record with the one produced at its place. Records of other runs on
// the same topic are skipped. It returns the differences found.
func check(batch *sidecar.PartitionRecords, record *sidecar.ConsumedRecord, runID string,
	missing records) (problems []string) {
	ours := false
	for _, header := range record.Headers {
		ours = ours || (header.Key == "run-id" && bytes.Equal(header.Value, []byte(runID)))
	}
	if !ours {
		return nil
	}
	at := place{batch.Partition, record.Offset}
	expected, found := missing[at]
	if !found {
		// Delivered twice (at-least-once allows it) or at a place Produce did not report.
		fmt.Printf("record %s at %s/%d@%d again\n", record.Key, batch.Topic, at.partition, at.offset)
		return nil
	}
	delete(missing, at)
	fmt.Printf("consumed %s from %s/%d at offset %d\n", record.Key, batch.Topic, at.partition,
		at.offset)
	report := func(format string, args ...any) {
		where := fmt.Sprintf("%s/%d@%d: ", batch.Topic, at.partition, at.offset)
		problems = append(problems, where+fmt.Sprintf(format, args...))
	}
	if !bytes.Equal(record.Key, expected.Key) {
		report("key is %q, expected %q", record.Key, expected.Key)
	}
	if !bytes.Equal(record.Value, expected.Value) {
		report("value is %q, expected %q", record.Value, expected.Value)
	}
	sameHeaders := len(record.Headers) == len(expected.Headers)
	for i := 0; sameHeaders && i < len(record.Headers); i++ {
		sameHeaders = proto.Equal(record.Headers[i], expected.Headers[i])
	}
	if !sameHeaders {
		report("headers are %v, expected %v", record.Headers, expected.Headers)
	}
	return problems
}

func newRunID() string {
	id := make([]byte, 16)
	if _, err := rand.Read(id); err != nil {
		panic(err)
	}
	return hex.EncodeToString(id)
}

func run() (problems []string, err error) {
	address := os.Getenv("SIDECAR_GRPC")
	if address == "" {
		address = "localhost:50051"
	}
	topic := os.Getenv("SIDECAR_TOPIC")
	if topic == "" {
		topic = "demo"
	}
	// A run id tells this run's records apart from others on the topic; a group of our own
	// starts with no committed offsets.
	runID := newRunID()
	group := "go-example-" + runID

	// The sidecar runs beside the application: plain text on loopback (or a unix: socket).
	conn, err := grpc.Dial(address, grpc.WithInsecure())
	if err != nil {
		return nil, err
	}
	defer conn.Close()
	ctx := context.Background()
	produced, err := produce(ctx, sidecar.NewProducerClient(conn), topic, runID)
	if err != nil {
		return nil, err
	}
	return consume(ctx, sidecar.NewConsumerClient(conn), topic, group, runID, produced)
}

func main() {
	problems, err := run()
	if err != nil {
		fmt.Fprintf(os.Stderr, "FAIL: %v\n", err)
		os.Exit(1)
	}
	for _, problem := range problems {
		fmt.Fprintf(os.Stderr, "FAIL: %s\n", problem)
	}
	if len(problems) > 0 {
		os.Exit(1)
	}
	fmt.Printf("ok: %d records produced, consumed, acked and committed\n", recordCount)
}
