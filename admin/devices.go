package admin

import (
	"context"
	"errors"
	"net/http"
	"net/url"
	"strconv"

	"github.com/gin-gonic/gin"

	"github.com/ginjwt/ginjwt/device"
)

type devicesData struct {
	Devices []device.Interlocutor
	Pager   pager
}

type networksData struct {
	Networks []device.InterlocutorNetwork
	Pager    pager
}

// deviceSession is a session on a device or network page.
type deviceSession struct {
	device.DeviceSession
	Username string
}

type deviceData struct {
	Device   *device.Interlocutor
	Network  *device.InterlocutorNetwork
	Sessions []deviceSession
	Pager    pager
}

// devicesOn answers 404 when the device registry is off.
func (a *Admin) devicesOn(c *gin.Context) bool {
	if a.devices == nil {
		a.fail(c, http.StatusNotFound, "Devices are not recorded", "The device registry is off: set Registry.Devices in ginjwt's Config to record devices and networks.")
		return false
	}
	return true
}

// devicesPage is GET /devices?page=: the interlocutors, newest first.
func (a *Admin) devicesPage(c *gin.Context) {
	n, ok := a.pageParam(c)
	if !ok || !a.devicesOn(c) {
		return
	}
	list, total, err := a.devices.Interlocutors(c.Request.Context(), a.cfg.PageSize, a.offset(n))
	if err != nil {
		a.serverError(c, err)
		return
	}
	p, ok := a.paginate(c, n, total, func(n int) string { return a.withPage("/devices", nil, n) })
	if !ok {
		return
	}
	a.render(c, http.StatusOK, "devices", "Devices", "devices", devicesData{Devices: list, Pager: p})
}

// networksPage is GET /networks?page=: the networks, newest first.
func (a *Admin) networksPage(c *gin.Context) {
	n, ok := a.pageParam(c)
	if !ok || !a.devicesOn(c) {
		return
	}
	list, total, err := a.devices.Networks(c.Request.Context(), a.cfg.PageSize, a.offset(n))
	if err != nil {
		a.serverError(c, err)
		return
	}
	p, ok := a.paginate(c, n, total, func(n int) string { return a.withPage("/networks", nil, n) })
	if !ok {
		return
	}
	a.render(c, http.StatusOK, "networks", "Networks", "networks", networksData{Networks: list, Pager: p})
}

// devicePage is GET /devices/:id?page=: an interlocutor and the sessions
// that used it.
func (a *Admin) devicePage(c *gin.Context) {
	detailPage(a, c, "device", "/devices/", a.devices.Interlocutor, a.devices.InterlocutorSessions,
		func(i *device.Interlocutor) deviceData { return deviceData{Device: i} })
}

// networkPage is GET /networks/:id?page=: a network and the sessions that
// came from it.
func (a *Admin) networkPage(c *gin.Context) {
	detailPage(a, c, "network", "/networks/", a.devices.Network, a.devices.NetworkSessions,
		func(nw *device.InterlocutorNetwork) deviceData { return deviceData{Network: nw} })
}

// detailPage answers the page of one device or network (what): the record
// load finds by the :id of the path, and a page of the sessions that
// sessions lists for it.
func detailPage[T any](a *Admin, c *gin.Context, what, base string,
	load func(context.Context, int64) (*T, error),
	sessions func(context.Context, int64, int, int) ([]device.DeviceSession, int64, error),
	data func(*T) deviceData,
) {
	id, ok := a.intParam(c, "id")
	if !ok || !a.devicesOn(c) {
		return
	}
	n, ok := a.pageParam(c)
	if !ok {
		return
	}
	rec, err := load(c.Request.Context(), id)
	if errors.Is(err, device.ErrNotFound) {
		a.notFound(c, what)
		return
	}
	if err != nil {
		a.serverError(c, err)
		return
	}
	list, total, err := sessions(c.Request.Context(), id, a.cfg.PageSize, a.offset(n))
	a.deviceSessions(c, what, data(rec), base+strconv.FormatInt(id, 10), n, list, total, err)
}

// deviceSessions answers a device or network page.
func (a *Admin) deviceSessions(c *gin.Context, page string, d deviceData, p string, n int, list []device.DeviceSession, total int64, err error) {
	if err != nil {
		a.serverError(c, err)
		return
	}
	pg, ok := a.paginate(c, n, total, func(n int) string { return a.withPage(p, url.Values{}, n) })
	if !ok {
		return
	}
	names, err := a.usernames(c, func(yield func(string) bool) {
		for _, s := range list {
			if !yield(s.UserID) {
				return
			}
		}
	})
	if err != nil {
		a.serverError(c, err)
		return
	}
	d.Pager = pg
	for _, s := range list {
		d.Sessions = append(d.Sessions, deviceSession{DeviceSession: s, Username: names[s.UserID]})
	}
	title := "Device"
	nav := "devices"
	if page == "network" {
		title, nav = "Network", "networks"
	}
	a.render(c, http.StatusOK, page, title, nav, d)
}
