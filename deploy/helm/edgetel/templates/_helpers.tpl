{{/* Chart name. */}}
{{- define "edgetel.name" -}}
{{- default .Chart.Name .Values.nameOverride | trunc 63 | trimSuffix "-" }}
{{- end }}

{{/* Fully qualified app name. */}}
{{- define "edgetel.fullname" -}}
{{- if .Values.fullnameOverride }}
{{- .Values.fullnameOverride | trunc 63 | trimSuffix "-" }}
{{- else }}
{{- $name := default .Chart.Name .Values.nameOverride }}
{{- if contains $name .Release.Name }}
{{- .Release.Name | trunc 63 | trimSuffix "-" }}
{{- else }}
{{- printf "%s-%s" .Release.Name $name | trunc 63 | trimSuffix "-" }}
{{- end }}
{{- end }}
{{- end }}

{{- define "edgetel.chart" -}}
{{- printf "%s-%s" .Chart.Name .Chart.Version | replace "+" "_" | trunc 63 | trimSuffix "-" }}
{{- end }}

{{/* Common labels. */}}
{{- define "edgetel.labels" -}}
helm.sh/chart: {{ include "edgetel.chart" . }}
app.kubernetes.io/name: {{ include "edgetel.name" . }}
app.kubernetes.io/instance: {{ .Release.Name }}
app.kubernetes.io/version: {{ .Chart.AppVersion | quote }}
app.kubernetes.io/managed-by: {{ .Release.Service }}
{{- end }}

{{/* Selector labels of a component: include "edgetel.selectorLabels" (list . "xds") */}}
{{- define "edgetel.selectorLabels" -}}
{{- $ := index . 0 -}}
app.kubernetes.io/name: {{ include "edgetel.name" $ }}
app.kubernetes.io/instance: {{ $.Release.Name }}
app.kubernetes.io/component: {{ index . 1 }}
{{- end }}

{{- define "edgetel.image" -}}
{{ .Values.image.repository }}:{{ default .Chart.AppVersion .Values.image.tag }}
{{- end }}

{{- define "edgetel.controlPlane.fullname" -}}
{{- printf "%s-xds" (include "edgetel.fullname" .) | trunc 63 | trimSuffix "-" }}
{{- end }}

{{- define "edgetel.sink.fullname" -}}
{{- printf "%s-sink" (include "edgetel.fullname" .) | trunc 63 | trimSuffix "-" }}
{{- end }}

{{- define "edgetel.controlPlane.serviceAccountName" -}}
{{- if .Values.controlPlane.serviceAccount.create }}
{{- default (include "edgetel.controlPlane.fullname" .) .Values.controlPlane.serviceAccount.name }}
{{- else }}
{{- default "default" .Values.controlPlane.serviceAccount.name }}
{{- end }}
{{- end }}

{{- define "edgetel.sink.serviceAccountName" -}}
{{- if .Values.sink.serviceAccount.create }}
{{- default (include "edgetel.sink.fullname" .) .Values.sink.serviceAccount.name }}
{{- else }}
{{- default "default" .Values.sink.serviceAccount.name }}
{{- end }}
{{- end }}

{{/* Flags both components share. */}}
{{- define "edgetel.commonArgs" -}}
- --kubernetes
- --log-level={{ .Values.logLevel }}
{{- with .Values.watchNamespace }}
- --namespace={{ . }}
{{- end }}
{{- end }}

{{/* Probes on the HTTP port (named http). */}}
{{- define "edgetel.probes" -}}
livenessProbe:
  httpGet:
    path: /healthz
    port: http
  periodSeconds: 10
  failureThreshold: 3
readinessProbe:
  httpGet:
    path: /readyz
    port: http
  periodSeconds: 5
  failureThreshold: 2
startupProbe:
  httpGet:
    path: /healthz
    port: http
  periodSeconds: 2
  failureThreshold: 30
{{- end }}

{{/* Mutual TLS (values tls): where the Secret is mounted in edgetel's pods. */}}
{{- define "edgetel.tlsDir" -}}
/etc/edgetel/tls
{{- end }}

{{/* Flags of the server side of mutual TLS, for both gRPC ports; with tls.enabled. */}}
{{- define "edgetel.tlsArgs" -}}
- --tls-cert-file={{ include "edgetel.tlsDir" . }}/tls.crt
- --tls-key-file={{ include "edgetel.tlsDir" . }}/tls.key
- --tls-client-ca-file={{ include "edgetel.tlsDir" . }}/ca.crt
{{- end }}

{{/* The TLS Secret's volume mount, read-only; with tls.enabled. */}}
{{- define "edgetel.tlsVolumeMount" -}}
- name: tls
  mountPath: {{ include "edgetel.tlsDir" . }}
  readOnly: true
{{- end }}

{{/* The TLS Secret's volume, mounted whole (no subPath) so that renewals reach the files;
with tls.enabled. */}}
{{- define "edgetel.tlsVolume" -}}
- name: tls
  secret:
    secretName: {{ required "tls.secretName is required with tls.enabled" .Values.tls.secretName }}
    defaultMode: 288 # 0440: owner and group (fsGroup) read
{{- end }}
