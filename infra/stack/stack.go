package stack

import (
	"fmt"
	"path/filepath"
	"sort"
	"strings"

	"github.com/aws/aws-cdk-go/awscdk/v2"
	"github.com/aws/aws-cdk-go/awscdk/v2/awsapigatewayv2"
	"github.com/aws/aws-cdk-go/awscdk/v2/awsapigatewayv2authorizers"
	"github.com/aws/aws-cdk-go/awscdk/v2/awsapigatewayv2integrations"
	"github.com/aws/aws-cdk-go/awscdk/v2/awscloudwatch"
	"github.com/aws/aws-cdk-go/awscdk/v2/awscloudwatchactions"
	"github.com/aws/aws-cdk-go/awscdk/v2/awsdynamodb"
	"github.com/aws/aws-cdk-go/awscdk/v2/awsevents"
	"github.com/aws/aws-cdk-go/awscdk/v2/awseventstargets"
	"github.com/aws/aws-cdk-go/awscdk/v2/awsiam"
	"github.com/aws/aws-cdk-go/awscdk/v2/awslambda"
	"github.com/aws/aws-cdk-go/awscdk/v2/awslambdadestinations"
	"github.com/aws/aws-cdk-go/awscdk/v2/awslambdaeventsources"
	"github.com/aws/aws-cdk-go/awscdk/v2/awslogs"
	"github.com/aws/aws-cdk-go/awscdk/v2/awss3"
	"github.com/aws/aws-cdk-go/awscdk/v2/awss3notifications"
	"github.com/aws/aws-cdk-go/awscdk/v2/awssecretsmanager"
	"github.com/aws/aws-cdk-go/awscdk/v2/awssns"
	"github.com/aws/aws-cdk-go/awscdk/v2/awssnssubscriptions"
	"github.com/aws/aws-cdk-go/awscdk/v2/awssqs"
	ddbtypes "github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
	"github.com/aws/constructs-go/constructs/v10"
	"github.com/aws/jsii-runtime-go"
	"github.com/deskline/deskline/shared/app"
	"github.com/deskline/deskline/shared/dynamo"
	"github.com/deskline/deskline/shared/routes"
)

// kindHTTP marks an HTTP route among the function kinds.
const kindHTTP = "http"

// Table actions. IAM has no TransactWriteItems or TransactGetItems action:
// a transaction is authorized by the actions of its parts (PutItem,
// UpdateItem, DeleteItem, ConditionCheckItem, GetItem).
var (
	ReadActions  = []string{"dynamodb:GetItem", "dynamodb:Query", "dynamodb:BatchGetItem"}
	WriteActions = []string{"dynamodb:PutItem", "dynamodb:UpdateItem", "dynamodb:DeleteItem", "dynamodb:BatchWriteItem", "dynamodb:ConditionCheckItem"}
	// ObjectActions are what NeedObjects grants on the bucket's objects.
	ObjectActions = []string{"s3:GetObject", "s3:PutObject", "s3:DeleteObject"}
)

// Stream consumer settings.
const (
	StreamBatchSize    = 100
	StreamMaxRecordAge = 3600 // seconds
	IteratorAgeAlarmMs = 60_000
)

// fnSpec is one function, HTTP or not, with what the stack needs to know.
type fnSpec struct {
	name      string
	kind      string // kindHTTP or a routes.Kind*
	writes    bool
	needs     []routes.Need
	routeKey  string
	itemTypes []string
	schedule  string // a task's EventBridge schedule
	route     routes.Route
}

func (f fnSpec) needs_(n routes.Need) bool {
	for _, x := range f.needs {
		if x == n {
			return true
		}
	}
	return false
}

func (s Spec) fnSpecs() []fnSpec {
	var out []fnSpec
	for _, r := range s.HTTP {
		out = append(out, fnSpec{name: r.Name, kind: kindHTTP, writes: !r.ReadOnly(), needs: r.Needs, route: r})
	}
	for _, f := range s.Functions {
		out = append(out, fnSpec{name: f.Name, kind: f.Kind, writes: f.Writes, needs: f.Needs, routeKey: f.RouteKey, itemTypes: f.ItemTypes, schedule: f.Schedule})
	}
	return out
}

// sizing is a function's memory (MB) and timeout (seconds) by kind.
func sizing(kind string) (float64, float64) {
	switch kind {
	case kindHTTP:
		return 512, 10 // bcrypt wants CPU; HTTP APIs time out at 30 s
	case routes.KindAuthorizer:
		return 512, 5
	case routes.KindWebSocket:
		return 256, 10
	case routes.KindStream, routes.KindS3:
		return 512, 60
	default:
		return 512, 300
	}
}

// Deskline is the synthesized stack and its main parts.
type Deskline struct {
	Config    Config
	Stack     awscdk.Stack
	Table     awsdynamodb.Table
	Bucket    awss3.Bucket
	Secret    awssecretsmanager.Secret
	HTTPAPI   awsapigatewayv2.HttpApi
	WSAPI     awsapigatewayv2.WebSocketApi // nil without WebSocket functions
	Functions map[string]awslambda.Function
	// Nested holds the nested stacks of HTTP routes, one per path family
	// (/api/<family>/...), so the stack stays under CloudFormation's 500
	// resources however many routes there are.
	Nested map[string]awscdk.NestedStack
	roles  map[string]*sharedRole
	logs   awslogs.LogGroup
	topic  awssns.Topic
}

// Build adds the stage's stack to app the way `cdk synth` sees it: the
// configuration from app's context (cdk.json and -c flags), spec's
// functions, whose bootstrap binaries must exist in the asset directory.
// The CDK app (infra/main.go) and the infra tests both build through it.
func Build(app awscdk.App, spec Spec) (*Deskline, error) {
	cfg, err := ConfigFromContext(app.Node())
	if err != nil {
		return nil, err
	}
	if err := spec.CheckAssets(cfg.AssetDir); err != nil {
		return nil, err
	}
	return New(app, "Deskline-"+cfg.Stage, &awscdk.StackProps{
		Description: jsii.String("Deskline help desk (" + cfg.Stage + "): HTTP and WebSocket APIs, Lambda functions, DynamoDB table, attachments bucket"),
	}, cfg, spec), nil
}

// New builds the stack. It panics with a clear message on an inconsistent
// spec or configuration, as CDK constructs do.
func New(scope constructs.Construct, id string, props *awscdk.StackProps, cfg Config, spec Spec) *Deskline {
	if err := cfg.Validate(); err != nil {
		panic(err)
	}
	if err := spec.Check(); err != nil {
		panic(err)
	}
	st := cfg.settings()
	removal := awscdk.RemovalPolicy_DESTROY
	if st.prod {
		removal = awscdk.RemovalPolicy_RETAIN
	}
	stack := awscdk.NewStack(scope, jsii.String(id), props)
	awscdk.Tags_Of(stack).Add(jsii.String("project"), jsii.String("deskline"), nil)
	awscdk.Tags_Of(stack).Add(jsii.String("stage"), jsii.String(cfg.Stage), nil)
	d := &Deskline{Config: cfg, Stack: stack, Functions: map[string]awslambda.Function{}, Nested: map[string]awscdk.NestedStack{}}

	d.Table = newTable(stack, cfg, removal)
	d.Bucket = newBucket(stack, cfg, removal)
	d.Secret = awssecretsmanager.NewSecret(stack, jsii.String("JwtSecret"), &awssecretsmanager.SecretProps{
		Description: jsii.String("Deskline " + cfg.Stage + " JWT signing secret (HS256)"),
		GenerateSecretString: &awssecretsmanager.SecretStringGenerator{
			PasswordLength: jsii.Number(64), ExcludePunctuation: jsii.Bool(true),
		},
		RemovalPolicy: removal,
	})
	topic := awssns.NewTopic(stack, jsii.String("Alarms"), &awssns.TopicProps{
		DisplayName: jsii.String("Deskline " + cfg.Stage + " alarms"), EnforceSSL: jsii.Bool(true),
	})
	if cfg.AlarmEmail != "" {
		topic.AddSubscription(awssnssubscriptions.NewEmailSubscription(jsii.String(cfg.AlarmEmail), nil))
	}
	d.topic = topic
	alarm := d.alarm(stack)

	// One log group for every function: Lambda names each stream
	// YYYY/MM/DD/<function>[version][instance] in a shared group, and one
	// group instead of one per function keeps the stack small.
	d.logs = awslogs.NewLogGroup(stack, jsii.String("FunctionLogs"), &awslogs.LogGroupProps{
		LogGroupName:  jsii.String(LogGroupName(cfg.Stage)),
		Retention:     st.logRetention,
		RemovalPolicy: removal,
	})
	specs := spec.fnSpecs()
	d.roles = d.newRoles(stack, cfg, specs)
	var authorizerFn awslambda.Function
	for _, f := range specs {
		scope := constructs.Construct(stack)
		if f.kind == kindHTTP {
			scope = d.nested(stack, cfg, family(f.route.Path))
		}
		fn := d.newFunction(scope, cfg, st, removal, f)
		d.Functions[f.name] = fn
		if f.kind == routes.KindAuthorizer {
			authorizerFn = fn
		}
		// One alarm per function on errors plus throttles.
		period := awscdk.Duration_Minutes(jsii.Number(5))
		d.alarm(scope)(pascal(f.name)+"Alarm", awscloudwatch.NewMathExpression(&awscloudwatch.MathExpressionProps{
			Expression: jsii.String("errors + throttles"),
			UsingMetrics: &map[string]awscloudwatch.IMetric{
				"errors":    fn.MetricErrors(&awscloudwatch.MetricOptions{Period: period, Statistic: jsii.String("Sum")}),
				"throttles": fn.MetricThrottles(&awscloudwatch.MetricOptions{Period: period, Statistic: jsii.String("Sum")}),
			},
			Label:  jsii.String(f.name + " errors + throttles"),
			Period: period,
		}), 1, FunctionName(cfg.Stage, f.name)+": invocations failed (crash, timeout, returned error) or were throttled")
	}

	// HTTP API: one Lambda integration per route; the authorizer on every
	// non-public route.
	d.HTTPAPI = newHTTPAPI(stack, cfg, st, spec)
	// The authorizer lives in this stack; routes in the nested stacks refer
	// to it by id.
	httpAuth := awsapigatewayv2.NewHttpAuthorizer(stack, jsii.String("HttpAuthorizer"), &awsapigatewayv2.HttpAuthorizerProps{
		HttpApi:               d.HTTPAPI,
		Type:                  awsapigatewayv2.HttpAuthorizerType_LAMBDA,
		AuthorizerName:        jsii.String("deskline-" + cfg.Stage),
		AuthorizerUri:         jsii.String("arn:" + *awscdk.Aws_PARTITION() + ":apigateway:" + *awscdk.Aws_REGION() + ":lambda:path/2015-03-31/functions/" + *authorizerFn.FunctionArn() + "/invocations"),
		EnableSimpleResponses: jsii.Bool(true),
		PayloadFormatVersion:  awsapigatewayv2.AuthorizerPayloadVersion_VERSION_2_0,
		// No caching: logout must revoke a session at once. Without
		// caching, no identity source is needed either, and a request
		// without a token still reaches the authorizer.
		ResultsCacheTtl: awscdk.Duration_Seconds(jsii.Number(0)),
		IdentitySource:  &[]*string{},
	})
	authorizerFn.AddPermission(jsii.String("HttpAuthorizerInvoke"), &awslambda.Permission{
		Principal: awsiam.NewServicePrincipal(jsii.String("apigateway.amazonaws.com"), nil),
		SourceArn: stack.FormatArn(&awscdk.ArnComponents{
			Service: jsii.String("execute-api"), Resource: d.HTTPAPI.ApiId(),
			ResourceName: jsii.String("authorizers/" + *httpAuth.AuthorizerId()),
		}),
	})
	routeAuth := map[string]awsapigatewayv2.IHttpRouteAuthorizer{}
	for _, f := range specs {
		if f.kind != kindHTTP {
			continue
		}
		fam := family(f.route.Path)
		scope := d.nested(stack, cfg, fam)
		var auth awsapigatewayv2.IHttpRouteAuthorizer = awsapigatewayv2.NewHttpNoneAuthorizer()
		if !f.route.Access.Public {
			if routeAuth[fam] == nil {
				routeAuth[fam] = awsapigatewayv2.HttpAuthorizer_FromHttpAuthorizerAttributes(scope, jsii.String("Authorizer"),
					&awsapigatewayv2.HttpAuthorizerAttributes{AuthorizerId: httpAuth.AuthorizerId(), AuthorizerType: jsii.String("CUSTOM")})
			}
			auth = routeAuth[fam]
		}
		awsapigatewayv2.NewHttpRoute(scope, jsii.String(pascal(f.name)+"Route"), &awsapigatewayv2.HttpRouteProps{
			HttpApi:  d.HTTPAPI,
			RouteKey: awsapigatewayv2.HttpRouteKey_With(jsii.String(f.route.Path), awsapigatewayv2.HttpMethod(strings.ToUpper(f.route.Method))),
			Integration: awsapigatewayv2integrations.NewHttpLambdaIntegration(jsii.String(pascal(f.name)+"Integration"), d.Functions[f.name],
				&awsapigatewayv2integrations.HttpLambdaIntegrationProps{PayloadFormatVersion: awsapigatewayv2.PayloadFormatVersion_VERSION_2_0()}),
			Authorizer: auth,
		})
	}
	dropEmptyIdentitySource(stack)
	httpStage := awsapigatewayv2.NewHttpStage(stack, jsii.String("HttpStage"), &awsapigatewayv2.HttpStageProps{
		HttpApi:    d.HTTPAPI,
		StageName:  jsii.String("$default"),
		AutoDeploy: jsii.Bool(true),
		Throttle:   &awsapigatewayv2.ThrottleSettings{RateLimit: jsii.Number(st.throttleRate), BurstLimit: jsii.Number(st.throttleBurst)},
	})

	// WebSocket API, when the route table has WebSocket functions.
	var wsStage awsapigatewayv2.WebSocketStage
	if ws := kindOf(specs, routes.KindWebSocket); len(ws) > 0 {
		d.WSAPI, wsStage = d.newWebSocketAPI(stack, cfg, st, ws, authorizerFn)
	}

	// Permissions and wiring that need the APIs.
	for _, f := range specs {
		fn := d.Functions[f.name]
		if f.needs_(routes.NeedPostWS) {
			if d.WSAPI == nil {
				panic(fmt.Errorf("function %q needs %s but the route table has no WebSocket functions", f.name, routes.NeedPostWS))
			}
			fn.AddEnvironment(jsii.String(app.EnvConnectionsURL), wsStage.CallbackUrl(), nil)
			if r := d.roles[roleKey(f)]; !r.wsGranted {
				r.wsGranted = true
				r.role.AddToPrincipalPolicy(awsiam.NewPolicyStatement(&awsiam.PolicyStatementProps{
					Actions: jsii.Strings("execute-api:ManageConnections"),
					Resources: &[]*string{stack.FormatArn(&awscdk.ArnComponents{
						Service: jsii.String("execute-api"), Resource: d.WSAPI.ApiId(),
						ResourceName: jsii.String(cfg.Stage + "/*/@connections/*"),
					})},
				}))
			}
		}
		switch f.kind {
		case routes.KindStream:
			d.addStreamSource(stack, st, f, fn, alarm, removal)
		case routes.KindS3:
			d.addS3Trigger(stack, f, fn, alarm, removal)
		}
		if f.schedule != "" {
			d.addSchedule(stack, cfg, f, fn, alarm, removal)
		}
	}

	out := func(id, value, what string) {
		awscdk.NewCfnOutput(stack, jsii.String(id), &awscdk.CfnOutputProps{Value: jsii.String(value), Description: jsii.String(what)})
	}
	out("ApiUrl", *httpStage.Url(), "HTTP API base URL")
	if wsStage != nil {
		out("WebSocketUrl", *wsStage.Url(), "WebSocket API URL (wss://)")
	}
	out("TableName", *d.Table.TableName(), "DynamoDB table")
	out("BucketName", *d.Bucket.BucketName(), "attachments bucket")
	out("AlarmTopicArn", *topic.TopicArn(), "SNS topic of every alarm")
	return d
}

func kindOf(specs []fnSpec, kind string) []fnSpec {
	var out []fnSpec
	for _, f := range specs {
		if f.kind == kind {
			out = append(out, f)
		}
	}
	return out
}

// newTable builds the table from dynamo.CreateTableInput, so keys and
// indexes cannot drift from what the store and the local cloud use.
func newTable(stack awscdk.Stack, cfg Config, removal awscdk.RemovalPolicy) awsdynamodb.Table {
	in := dynamo.CreateTableInput("deskline")
	types := map[string]awsdynamodb.AttributeType{}
	for _, a := range in.AttributeDefinitions {
		types[*a.AttributeName] = map[string]awsdynamodb.AttributeType{
			"S": awsdynamodb.AttributeType_STRING, "N": awsdynamodb.AttributeType_NUMBER, "B": awsdynamodb.AttributeType_BINARY,
		}[string(a.AttributeType)]
	}
	attr := func(name *string) *awsdynamodb.Attribute {
		t, ok := types[*name]
		if !ok {
			panic(fmt.Errorf("key attribute %s has no attribute definition", *name))
		}
		return &awsdynamodb.Attribute{Name: name, Type: t}
	}
	keys := func(schema []ddbtypes.KeySchemaElement) (pk, sk *awsdynamodb.Attribute) {
		for _, k := range schema {
			if k.KeyType == ddbtypes.KeyTypeHash {
				pk = attr(k.AttributeName)
			} else {
				sk = attr(k.AttributeName)
			}
		}
		return pk, sk
	}
	pk, sk := keys(in.KeySchema)
	if in.StreamSpecification == nil || in.StreamSpecification.StreamViewType != ddbtypes.StreamViewTypeNewAndOldImages {
		panic("dynamo.CreateTableInput must enable a NEW_AND_OLD_IMAGES stream")
	}
	billing := awsdynamodb.BillingMode_PAY_PER_REQUEST
	if in.BillingMode == ddbtypes.BillingModeProvisioned {
		billing = awsdynamodb.BillingMode_PROVISIONED
	}
	t := awsdynamodb.NewTable(stack, jsii.String("Table"), &awsdynamodb.TableProps{
		PartitionKey:        pk,
		SortKey:             sk,
		BillingMode:         billing,
		Stream:              awsdynamodb.StreamViewType_NEW_AND_OLD_IMAGES,
		TimeToLiveAttribute: jsii.String(dynamo.TTLAttribute),
		PointInTimeRecoverySpecification: &awsdynamodb.PointInTimeRecoverySpecification{
			PointInTimeRecoveryEnabled: jsii.Bool(true),
		},
		DeletionProtection: jsii.Bool(cfg.Stage != StageDev),
		RemovalPolicy:      removal,
	})
	for _, g := range in.GlobalSecondaryIndexes {
		gpk, gsk := keys(g.KeySchema)
		props := &awsdynamodb.GlobalSecondaryIndexProps{IndexName: g.IndexName, PartitionKey: gpk, SortKey: gsk}
		if g.Projection != nil {
			switch g.Projection.ProjectionType {
			case "KEYS_ONLY":
				props.ProjectionType = awsdynamodb.ProjectionType_KEYS_ONLY
			case "INCLUDE":
				props.ProjectionType = awsdynamodb.ProjectionType_INCLUDE
				props.NonKeyAttributes = jsii.Strings(g.Projection.NonKeyAttributes...)
			default:
				props.ProjectionType = awsdynamodb.ProjectionType_ALL
			}
		}
		t.AddGlobalSecondaryIndex(props)
	}
	for _, l := range in.LocalSecondaryIndexes {
		_, lsk := keys(l.KeySchema)
		t.AddLocalSecondaryIndex(&awsdynamodb.LocalSecondaryIndexProps{IndexName: l.IndexName, SortKey: lsk, ProjectionType: awsdynamodb.ProjectionType_ALL})
	}
	return t
}

// newBucket builds the private attachments bucket.
func newBucket(stack awscdk.Stack, cfg Config, removal awscdk.RemovalPolicy) awss3.Bucket {
	return awss3.NewBucket(stack, jsii.String("Attachments"), &awss3.BucketProps{
		BlockPublicAccess: awss3.BlockPublicAccess_BLOCK_ALL(),
		Encryption:        awss3.BucketEncryption_S3_MANAGED,
		EnforceSSL:        jsii.Bool(true),
		ObjectOwnership:   awss3.ObjectOwnership_BUCKET_OWNER_ENFORCED,
		Cors: &[]*awss3.CorsRule{{
			// Browsers POST uploads straight to S3 with a presigned POST
			// policy, and may fetch presigned GET URLs.
			AllowedMethods: &[]awss3.HttpMethods{awss3.HttpMethods_POST, awss3.HttpMethods_GET},
			AllowedOrigins: jsii.Strings(cfg.CorsOrigins...),
			AllowedHeaders: jsii.Strings("*"),
			ExposedHeaders: jsii.Strings("ETag", "Location"),
			MaxAge:         jsii.Number(3000),
		}},
		LifecycleRules: &[]*awss3.LifecycleRule{{
			Id:                                  jsii.String("abort-incomplete-uploads"),
			AbortIncompleteMultipartUploadAfter: awscdk.Duration_Days(jsii.Number(1)),
		}},
		RemovalPolicy:     removal,
		AutoDeleteObjects: jsii.Bool(cfg.Stage == StageDev),
	})
}

func newHTTPAPI(stack awscdk.Stack, cfg Config, st stageSettings, spec Spec) awsapigatewayv2.HttpApi {
	methods := map[string]bool{"OPTIONS": true}
	for _, r := range spec.HTTP {
		methods[strings.ToUpper(r.Method)] = true
	}
	var allow []awsapigatewayv2.CorsHttpMethod
	for _, m := range sortedKeys(methods) {
		allow = append(allow, awsapigatewayv2.CorsHttpMethod(m))
	}
	return awsapigatewayv2.NewHttpApi(stack, jsii.String("HttpApi"), &awsapigatewayv2.HttpApiProps{
		ApiName:            jsii.String("deskline-" + cfg.Stage),
		CreateDefaultStage: jsii.Bool(false),
		CorsPreflight: &awsapigatewayv2.CorsPreflightOptions{
			AllowOrigins: jsii.Strings(cfg.CorsOrigins...),
			AllowMethods: &allow,
			AllowHeaders: jsii.Strings("Authorization", "Content-Type"),
			MaxAge:       awscdk.Duration_Hours(jsii.Number(1)),
		},
	})
}

// dropEmptyIdentitySource removes the empty IdentitySource list that
// HttpLambdaAuthorizer writes when given none, so the template omits it, as
// the API does for an uncached REQUEST authorizer.
func dropEmptyIdentitySource(stack awscdk.Stack) {
	for _, c := range *stack.Node().FindAll(constructs.ConstructOrder_PREORDER) {
		cfn, ok := c.(awsapigatewayv2.CfnAuthorizer)
		if !ok || cfn.IdentitySource() == nil || len(*cfn.IdentitySource()) > 0 {
			continue
		}
		cfn.AddPropertyDeletionOverride(jsii.String("IdentitySource"))
	}
}

func (d *Deskline) newWebSocketAPI(stack awscdk.Stack, cfg Config, st stageSettings, ws []fnSpec, authorizerFn awslambda.Function) (awsapigatewayv2.WebSocketApi, awsapigatewayv2.WebSocketStage) {
	integration := func(f fnSpec) awsapigatewayv2.WebSocketRouteIntegration {
		return awsapigatewayv2integrations.NewWebSocketLambdaIntegration(jsii.String(pascal(f.name)+"Integration"), d.Functions[f.name], nil)
	}
	props := &awsapigatewayv2.WebSocketApiProps{
		ApiName:                  jsii.String("deskline-ws-" + cfg.Stage),
		RouteSelectionExpression: jsii.String("$request.body.action"),
	}
	var others []fnSpec
	for _, f := range ws {
		switch f.routeKey {
		case "$connect":
			// Browsers cannot set headers on a WebSocket: the token comes
			// in the query string. WebSocket authorizers are not cached.
			props.ConnectRouteOptions = &awsapigatewayv2.WebSocketRouteOptions{
				Integration: integration(f),
				Authorizer: awsapigatewayv2authorizers.NewWebSocketLambdaAuthorizer(jsii.String("WsAuthorizer"), authorizerFn,
					&awsapigatewayv2authorizers.WebSocketLambdaAuthorizerProps{
						AuthorizerName: jsii.String("deskline-ws-" + cfg.Stage),
						IdentitySource: jsii.Strings("route.request.querystring.token"),
					}),
			}
		case "$disconnect":
			props.DisconnectRouteOptions = &awsapigatewayv2.WebSocketRouteOptions{Integration: integration(f)}
		case "$default":
			props.DefaultRouteOptions = &awsapigatewayv2.WebSocketRouteOptions{Integration: integration(f)}
		default:
			others = append(others, f)
		}
	}
	api := awsapigatewayv2.NewWebSocketApi(stack, jsii.String("WsApi"), props)
	for _, f := range others {
		api.AddRoute(jsii.String(f.routeKey), &awsapigatewayv2.WebSocketRouteOptions{Integration: integration(f)})
	}
	stage := awsapigatewayv2.NewWebSocketStage(stack, jsii.String("WsStage"), &awsapigatewayv2.WebSocketStageProps{
		WebSocketApi: api,
		StageName:    jsii.String(cfg.Stage),
		AutoDeploy:   jsii.Bool(true),
		Throttle:     &awsapigatewayv2.ThrottleSettings{RateLimit: jsii.Number(st.throttleRate), BurstLimit: jsii.Number(st.throttleBurst)},
	})
	return api, stage
}

type alarmFunc func(id string, metric awscloudwatch.IMetric, threshold float64, what string)

// alarm returns a function that adds an alarm to scope, notifying the
// alarm topic.
func (d *Deskline) alarm(scope constructs.Construct) alarmFunc {
	return func(id string, metric awscloudwatch.IMetric, threshold float64, what string) {
		a := awscloudwatch.NewAlarm(scope, jsii.String(id), &awscloudwatch.AlarmProps{
			Metric:             metric,
			Threshold:          jsii.Number(threshold),
			EvaluationPeriods:  jsii.Number(1),
			ComparisonOperator: awscloudwatch.ComparisonOperator_GREATER_THAN_OR_EQUAL_TO_THRESHOLD,
			TreatMissingData:   awscloudwatch.TreatMissingData_NOT_BREACHING,
			AlarmDescription:   jsii.String(what),
		})
		a.AddAlarmAction(awscloudwatchactions.NewSnsAction(d.topic))
	}
}

// nested returns the nested stack of a family of HTTP routes.
func (d *Deskline) nested(stack awscdk.Stack, cfg Config, fam string) awscdk.NestedStack {
	if n, ok := d.Nested[fam]; ok {
		return n
	}
	n := awscdk.NewNestedStack(stack, jsii.String("Routes"+pascal(fam)), &awscdk.NestedStackProps{
		Description: jsii.String("Deskline " + cfg.Stage + ": the /api/" + fam + " routes"),
	})
	d.Nested[fam] = n
	return n
}

// family is a route's path family: "tickets" for /api/tickets/{id}. Each
// family is one nested stack. (A function whose route changes family moves
// to another nested stack: deploy its removal first, since function names
// are fixed.)
func family(path string) string {
	p := strings.TrimPrefix(strings.TrimPrefix(path, "/"), "api/")
	seg, _, _ := strings.Cut(p, "/")
	seg = strings.Map(func(r rune) rune {
		if r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' {
			return r
		}
		return '-'
	}, seg)
	if strings.Trim(seg, "-") == "" {
		return "root"
	}
	return seg
}

func newDLQ(stack awscdk.Stack, name string, removal awscdk.RemovalPolicy, alarm alarmFunc, what string) awssqs.Queue {
	q := awssqs.NewQueue(stack, jsii.String(pascal(name)+"Dlq"), &awssqs.QueueProps{
		RetentionPeriod: awscdk.Duration_Days(jsii.Number(14)),
		Encryption:      awssqs.QueueEncryption_SQS_MANAGED,
		EnforceSSL:      jsii.Bool(true),
		RemovalPolicy:   removal,
	})
	alarm(pascal(name)+"DlqAlarm", q.MetricApproximateNumberOfMessagesVisible(&awscloudwatch.MetricOptions{
		Period: awscdk.Duration_Minutes(jsii.Number(5)), Statistic: jsii.String("Maximum"),
	}), 1, what)
	return q
}

// addStreamSource subscribes a stream consumer to the table's stream,
// filtered to its item types (in the new image for inserts and updates, in
// the old image for deletes).
func (d *Deskline) addStreamSource(stack awscdk.Stack, st stageSettings, f fnSpec, fn awslambda.Function, alarm alarmFunc, removal awscdk.RemovalPolicy) {
	dlq := newDLQ(stack, f.name, removal, alarm, f.name+": stream batches given up on (see the queue for their shard and sequence numbers)")
	var filters *[]*map[string]any
	if len(f.itemTypes) > 0 {
		filters = &[]*map[string]any{}
		for _, image := range []string{"NewImage", "OldImage"} {
			*filters = append(*filters, awslambda.FilterCriteria_Filter(&map[string]any{
				"dynamodb": map[string]any{image: map[string]any{"type": map[string]any{"S": f.itemTypes}}},
			}))
		}
	}
	fn.AddEventSource(awslambdaeventsources.NewDynamoEventSource(d.Table, &awslambdaeventsources.DynamoEventSourceProps{
		StartingPosition:        awslambda.StartingPosition_LATEST,
		BatchSize:               jsii.Number(StreamBatchSize),
		MaxBatchingWindow:       awscdk.Duration_Seconds(jsii.Number(1)),
		BisectBatchOnError:      jsii.Bool(true),
		ReportBatchItemFailures: jsii.Bool(true),
		RetryAttempts:           jsii.Number(st.retryAttempts),
		MaxRecordAge:            awscdk.Duration_Seconds(jsii.Number(StreamMaxRecordAge)),
		ParallelizationFactor:   jsii.Number(1),
		OnFailure:               awslambdaeventsources.NewSqsDlq(dlq),
		Filters:                 filters,
	}))
	alarm(pascal(f.name)+"IteratorAgeAlarm", fn.Metric(jsii.String("IteratorAge"), &awscloudwatch.MetricOptions{
		Period: awscdk.Duration_Minutes(jsii.Number(5)), Statistic: jsii.String("Maximum"),
	}), IteratorAgeAlarmMs, f.name+": stream records wait more than a minute")
}

// addS3Trigger invokes an S3 function on every ObjectCreated, with failed
// asynchronous invocations kept in a queue.
func (d *Deskline) addS3Trigger(stack awscdk.Stack, f fnSpec, fn awslambda.Function, alarm alarmFunc, removal awscdk.RemovalPolicy) {
	dlq := newDLQ(stack, f.name, removal, alarm, f.name+": S3 events given up on")
	fn.ConfigureAsyncInvoke(&awslambda.EventInvokeConfigOptions{
		RetryAttempts: jsii.Number(2),
		MaxEventAge:   awscdk.Duration_Hours(jsii.Number(6)),
		OnFailure:     awslambdadestinations.NewSqsDestination(dlq),
	})
	d.Bucket.AddEventNotification(awss3.EventType_OBJECT_CREATED, awss3notifications.NewLambdaDestination(fn))
}

// addSchedule invokes a scheduled task at its rate with an EventBridge
// rule. A failed run is retried twice within the hour (the task is
// idempotent per scheduled time); what still fails, or cannot be
// delivered, lands in a queue with an alarm.
func (d *Deskline) addSchedule(stack awscdk.Stack, cfg Config, f fnSpec, fn awslambda.Function, alarm alarmFunc, removal awscdk.RemovalPolicy) {
	dlq := newDLQ(stack, f.name, removal, alarm, f.name+": scheduled runs given up on")
	fn.ConfigureAsyncInvoke(&awslambda.EventInvokeConfigOptions{
		RetryAttempts: jsii.Number(2),
		MaxEventAge:   awscdk.Duration_Hours(jsii.Number(1)),
		OnFailure:     awslambdadestinations.NewSqsDestination(dlq),
	})
	awsevents.NewRule(stack, jsii.String(pascal(f.name)+"Schedule"), &awsevents.RuleProps{
		RuleName:    jsii.String(FunctionName(cfg.Stage, f.name)),
		Description: jsii.String("Deskline " + cfg.Stage + ": run " + f.name + " " + f.schedule),
		Schedule:    awsevents.Schedule_Expression(jsii.String(f.schedule)),
		Targets: &[]awsevents.IRuleTarget{awseventstargets.NewLambdaFunction(fn, &awseventstargets.LambdaFunctionProps{
			RetryAttempts: jsii.Number(2), MaxEventAge: awscdk.Duration_Hours(jsii.Number(1)), DeadLetterQueue: dlq,
		})},
	})
}

// newFunction builds one function with its log group and least-privilege
// permissions.
func (d *Deskline) newFunction(scope constructs.Construct, cfg Config, st stageSettings, removal awscdk.RemovalPolicy, f fnSpec) awslambda.Function {
	name := FunctionName(cfg.Stage, f.name)
	env := map[string]*string{
		app.EnvStage:     jsii.String(cfg.Stage),
		app.EnvTable:     d.Table.TableName(),
		app.EnvMailFrom:  jsii.String(cfg.MailFrom),
		app.EnvPublicURL: jsii.String(cfg.PublicURL),
	}
	if NeedsJWTSecret(f.name, f.kind) {
		env[app.EnvJWTSecretARN] = d.Secret.SecretArn()
	}
	if f.needs_(routes.NeedObjects) || f.kind == routes.KindS3 {
		env[app.EnvBucket] = d.Bucket.BucketName()
	}
	mem, timeout := sizing(f.kind)
	desc := f.kind + " " + f.name
	if f.kind == kindHTTP {
		desc = f.route.Method + " " + f.route.Path
	}
	fn := awslambda.NewFunction(scope, jsii.String(pascal(f.name)), &awslambda.FunctionProps{
		FunctionName:  jsii.String(name),
		Description:   jsii.String("Deskline " + desc),
		Runtime:       awslambda.Runtime_PROVIDED_AL2023(),
		Architecture:  architecture(cfg.Architecture),
		Handler:       jsii.String("bootstrap"),
		Code:          awslambda.Code_FromAsset(jsii.String(filepath.Join(cfg.AssetDir, f.name)), nil),
		MemorySize:    jsii.Number(mem),
		Timeout:       awscdk.Duration_Seconds(jsii.Number(timeout)),
		Environment:   &env,
		LoggingFormat: awslambda.LoggingFormat_JSON,
		LogGroup:      d.logs,
		Role:          d.roles[roleKey(f)].role,
	})

	return fn
}

// sharedRole is the execution role of the functions with one permission
// profile.
type sharedRole struct {
	role      awsiam.Role
	wsGranted bool
}

// roleKey names a function's permission profile. Functions whose rows ask
// for the same access share one role (the same least-privilege policy),
// which keeps the stack small; stream and S3 consumers and scheduled tasks
// get their own, since their event sources and dead-letter queues are
// theirs alone.
func roleKey(f fnSpec) string {
	if f.kind == routes.KindStream || f.kind == routes.KindS3 || f.schedule != "" {
		return pascal(f.name)
	}
	k := "Read"
	if f.writes {
		k = "ReadWrite"
	}
	needs := map[routes.Need]string{routes.NeedSendMail: "Mail", routes.NeedObjects: "Objects", routes.NeedPostWS: "Connections"}
	var parts []string
	for _, n := range f.needs {
		if p, ok := needs[n]; ok {
			parts = append(parts, p)
		} else {
			parts = append(parts, pascal(strings.NewReplacer(":", "-", ".", "-").Replace(string(n))))
		}
	}
	sort.Strings(parts)
	k += strings.Join(parts, "")
	if NeedsJWTSecret(f.name, f.kind) {
		k += "JwtSecret"
	}
	return k
}

// roleDescription names a role's functions within IAM's 1,000 characters
// (a read-only role is shared by dozens of GET routes).
func roleDescription(stage string, names []string) string {
	d := "Deskline " + stage + ": "
	for i, n := range names {
		more := fmt.Sprintf(" and %d more", len(names)-i)
		if len(d)+len(n)+2+len(more) > 1000 && i < len(names)-1 || len(d)+len(n) > 1000 {
			return strings.TrimSuffix(d, ", ") + more
		}
		d += n
		if i < len(names)-1 {
			d += ", "
		}
	}
	return d
}

// newRoles creates one role per permission profile with its policy: logs
// (the functions' log group only), table (read, or read and write, on
// the table and its indexes), the JWT secret, objects and mail. WebSocket
// connections are granted once the WebSocket API exists.
func (d *Deskline) newRoles(stack awscdk.Stack, cfg Config, specs []fnSpec) map[string]*sharedRole {
	members := map[string][]fnSpec{}
	var keys []string
	for _, f := range specs {
		k := roleKey(f)
		if _, ok := members[k]; !ok {
			keys = append(keys, k)
		}
		members[k] = append(members[k], f)
	}
	roles := map[string]*sharedRole{}
	for _, k := range keys {
		fs := members[k]
		f := fs[0]
		var names []string
		for _, m := range fs {
			names = append(names, m.name)
		}
		role := awsiam.NewRole(stack, jsii.String("Role"+k), &awsiam.RoleProps{
			AssumedBy:   awsiam.NewServicePrincipal(jsii.String("lambda.amazonaws.com"), nil),
			Description: jsii.String(roleDescription(cfg.Stage, names)),
		})
		add := func(actions []string, resources ...*string) {
			role.AddToPrincipalPolicy(awsiam.NewPolicyStatement(&awsiam.PolicyStatementProps{
				Actions: jsii.Strings(actions...), Resources: &resources,
			}))
		}
		add([]string{"logs:CreateLogStream", "logs:PutLogEvents"}, jsii.String(*d.logs.LogGroupArn()))
		actions := append([]string{}, ReadActions...)
		if f.writes {
			actions = append(actions, WriteActions...)
		}
		add(actions, d.Table.TableArn(), jsii.String(*d.Table.TableArn()+"/index/*"))
		if NeedsJWTSecret(f.name, f.kind) {
			d.Secret.GrantRead(role, nil)
		}
		if f.needs_(routes.NeedObjects) {
			add(ObjectActions, d.Bucket.ArnForObjects(jsii.String("*")))
		}
		if f.needs_(routes.NeedSendMail) {
			domain := cfg.MailFrom[strings.LastIndex(cfg.MailFrom, "@")+1:]
			identity := func(id string) *string {
				return stack.FormatArn(&awscdk.ArnComponents{Service: jsii.String("ses"), Resource: jsii.String("identity"), ResourceName: jsii.String(id)})
			}
			role.AddToPrincipalPolicy(awsiam.NewPolicyStatement(&awsiam.PolicyStatementProps{
				Actions:    jsii.Strings("ses:SendEmail"),
				Resources:  &[]*string{identity(domain), identity(cfg.MailFrom)},
				Conditions: &map[string]any{"StringEquals": map[string]any{"ses:FromAddress": cfg.MailFrom}},
			}))
		}
		roles[k] = &sharedRole{role: role}
	}
	return roles
}

func architecture(a string) awslambda.Architecture {
	if a == "x86_64" {
		return awslambda.Architecture_X86_64()
	}
	return awslambda.Architecture_ARM_64()
}

// pascal turns "users-list" into "UsersList" for construct ids.
func pascal(s string) string {
	var b strings.Builder
	for _, part := range strings.FieldsFunc(s, func(r rune) bool { return r == '-' || r == '_' || r == '$' }) {
		b.WriteString(strings.ToUpper(part[:1]) + part[1:])
	}
	return b.String()
}

func sortedKeys(m map[string]bool) []string {
	var out []string
	for k := range m {
		out = append(out, k)
	}
	sort.Strings(out)
	return out
}
